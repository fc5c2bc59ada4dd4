public import Logging
public import WherryKube
public import WherryModel

/// The outcome of syncing one service.
public struct SyncResult: Sendable {
    public var service: String
    public var commit: String
    /// What the apply did per object, then what the prune did (`deleted`, `kept`).
    public var changes: ChangeSet
    /// Objects a drift check found changed or missing and put back.
    public var drifted: [ObjectRef] = []
    /// The service's inventory after the sync.
    public var inventory = Inventory()
    /// The digest of everything the render read (``RenderedService/treeHash``).
    public var digest = ""
}

/// How one service is synced.
public struct SyncOptions: Sendable {
    /// Validate, compare and check prunes with the server; write nothing.
    public var dryRun = false
    /// Live objects shared between the services of one sync.
    public var liveCache: LiveObjectCache?
    /// Let a prune of more than half the inventory go ahead (`--allow-mass-prune`).
    public var allowMassPrune = false
    /// A drift check: the objects are the ones last applied (see ``ApplySetOptions/driftCheck``).
    public var driftCheck = false
    /// Which services hold the objects this one would prune; without it, objects are pruned on labels alone.
    public var claims: ServiceClaims?
    /// Every inventory the cluster holds, read once for a sync of many services.
    public var inventories: [String: StoredInventory]?
    /// Prune nothing this time (`--no-prune`): what left Git stays in the cluster and in the inventory, so the next
    /// sync that prunes removes it.
    public var noPrune = false

    public init(
        dryRun: Bool = false, liveCache: LiveObjectCache? = nil, allowMassPrune: Bool = false,
        driftCheck: Bool = false, claims: ServiceClaims? = nil
    ) {
        self.dryRun = dryRun
        self.liveCache = liveCache
        self.allowMassPrune = allowMassPrune
        self.driftCheck = driftCheck
        self.claims = claims
    }
}

/// Syncing one service failed, at rendering or at applying.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    case render(ServiceRenderError)
    case apply(service: String, commit: String, ApplyError)
    /// A safety valve stopped the sync before anything was written (an empty render, a mass prune).
    case refused(service: String, commit: String, reason: String)
    /// The inventory could not be read or saved.
    case inventory(service: String, commit: String, KubeAPIError)
    /// An external applier (kubectl, nokube) failed.
    case applyer(service: String, commit: String, ApplyerError)

    public var description: String {
        switch self {
        case .render(let error): error.description
        case .refused(let service, let commit, let reason):
            "service \(service) at \(commit.prefix(12)): refused: \(reason)"
        case .inventory(let service, let commit, let error):
            "service \(service) at \(commit.prefix(12)): the inventory could not be read or saved: \(error)"
        case .applyer(let service, let commit, let error):
            "service \(service) at \(commit.prefix(12)): \(error)"
        case .apply(let service, let commit, let error):
            "service \(service) at \(commit.prefix(12)): \(error.description)"
        }
    }

    /// Whether a later attempt may succeed without a change in Git (a controller retries these with backoff).
    public var isTransient: Bool {
        switch self {
        case .render(let error): error.isTransient
        case .apply(_, _, let error): error.isTransient
        case .refused: false
        case .inventory(_, _, let error): error.isTransient
        case .applyer(_, _, let error): error.isTransient
        }
    }

    /// Whether the sync was cancelled (shutdown, a newer trigger): not a failure to record.
    public var isCancelled: Bool {
        if case .apply(_, _, let error) = self { return error.isCancelled }
        if case .inventory(_, _, let error) = self { return error.isCancelled }
        return false
    }

    /// The commit a signature check refused: not retried at it, only once the branch moves (or when asked).
    public var refusedCommit: String? {
        if case .render(let error) = self, error.step == .verify { return error.commit }
        return nil
    }

    /// The commit the failed sync was at, when rendering got that far (or a signature check refused it).
    public var commit: String {
        switch self {
        case .render(let error): error.commit ?? ""
        case .apply(_, let commit, _), .refused(_, let commit, _), .inventory(_, let commit, _),
            .applyer(_, let commit, _):
            commit
        }
    }

    /// The cluster-wide failure behind this error, when there is one: every other service would fail alike.
    public var clusterProblem: String? {
        if case .apply(_, _, let error) = self, error.isClusterWide { return error.description }
        return nil
    }
}

/// One sync of a service: render from Git, then apply to the cluster as a unit.
public struct ServiceSyncer: Sendable {
    public let renderer: ServiceRenderer
    public let manager: ResourceManager
    /// Objects written at once.
    public var concurrency: Int
    /// Namespace for namespaced objects when neither they nor the service name one.
    public var defaultNamespace: String
    /// Where inventories are kept.
    public let inventories: InventoryKeeper
    /// An external applier (kubectl, nokube) that applies instead of the native one; `nil`: native.
    public var applyer: (any Applyer)?
    /// The leader's write fence (`--leader-elect`): an external applier is not started once it is closed.
    public var fence: WriteFence?
    /// The live health of what services wait on, shared by every copy of this syncer (one LIST+WATCH per kind and
    /// namespace for all of them).
    public let health: HealthObserver
    let logger: Logger

    public init(
        renderer: ServiceRenderer, manager: ResourceManager, concurrency: Int = ApplySetOptions.defaultConcurrency,
        defaultNamespace: String = "default", inventories: InventoryKeeper? = nil,
        logger: Logger = Logger(label: "wherry.sync")
    ) {
        self.renderer = renderer
        self.manager = manager
        self.concurrency = concurrency
        self.defaultNamespace = defaultNamespace
        self.inventories = inventories ?? InventoryKeeper(cluster: ClusterInventory(api: manager.api))
        health = HealthObserver(api: manager.api, mapper: manager.mapper)
        self.logger = logger
    }

    /// Options for applying one service's objects; `liveCache` shares live objects between services.
    public func applyOptions(
        for service: ServiceConfig, dryRun: Bool, liveCache: LiveObjectCache? = nil
    ) -> ApplySetOptions {
        var options = ApplySetOptions(
            defaultNamespace: service.namespace ?? defaultNamespace,
            liveSelector: WherryLabels.serviceSelector(service.name), liveCache: liveCache,
            concurrency: concurrency, dryRun: dryRun)
        let rules = service.ignoreDifferences
        if !rules.isEmpty {
            options.ignoredPointers = { ref in rules.filter { $0.matches(ref) }.flatMap(\.jsonPointers) }
        }
        return options
    }

    /// Applies one rendered service as a unit (`wherry sync`): the same steps as ``Reconciler/reconcile`` runs after
    /// rendering — plan (safety valves), record intent, apply, prune, record the inventory, and (`wait: true`) wait
    /// for health.
    public func apply(
        _ rendered: RenderedService, options: SyncOptions = SyncOptions()
    ) async throws(SyncError)
        -> SyncResult
    {
        if let applyer { return try await applyExternally(rendered, with: applyer, dryRun: options.dryRun) }
        var plan = try await plan(rendered, options: options)
        try await recordIntent(&plan, dryRun: options.dryRun)
        var result = try await applyObjects(plan, options: options)
        let pruned = await prune(plan, options: options)
        try await recordInventory(&plan, pruned: pruned, result: &result, dryRun: options.dryRun)
        if plan.service.wait, !options.dryRun { try await waitForHealth(plan, result: result) }
        logSynced(result, dryRun: options.dryRun)
        return result
    }

    /// External appliers (kubectl, nokube) only apply: no inventory, prune, drift check or health wait (said once
    /// at start).
    public func applyExternally(
        _ rendered: RenderedService, with applyer: any Applyer, dryRun: Bool
    ) async throws(SyncError) -> SyncResult {
        let service = rendered.service
        try Self.refuseEmpty(rendered)
        if let fence, !dryRun {
            do {
                try fence.check("\(applyer.name) apply of service \(service.name)")
            } catch {
                throw .apply(
                    service: service.name, commit: rendered.commit,
                    ApplyError(cluster: error, server: manager.api.server))
            }
        }
        do {
            let changes = try await applyer.apply(
                namespaceObject(for: service) + rendered.objects, service: service.name, dryRun: dryRun)
            return SyncResult(service: service.name, commit: rendered.commit, changes: changes)
        } catch {
            throw .applyer(service: service.name, commit: rendered.commit, error)
        }
    }

    /// Says what a sync did, once it is done.
    func logSynced(_ result: SyncResult, dryRun: Bool) {
        logger.info(
            "Synced service",
            metadata: [
                "wherry.service": "\(result.service)", "wherry.revision": "\(result.commit)",
                "wherry.changes": "\(result.changes.summary)", "wherry.dry_run": "\(dryRun)",
            ])
    }

    /// The inventory a rendered service makes once applied (namespaces settled as its apply settles them); fails
    /// when the scope of a kind is unknown (never guessed).
    public func inventory(of rendered: RenderedService) async throws(ApplyError) -> Inventory {
        try await manager.inventory(
            of: rendered.objects, defaultNamespace: rendered.service.namespace ?? defaultNamespace)
    }

    /// With `create_namespace: true`, the service's Namespace, created when missing and otherwise left as it is
    /// (never in the inventory, so never pruned). It carries the service's labels, so drift checks find it with the
    /// service's other objects.
    func namespaceObject(for service: ServiceConfig) -> [KubeObject] {
        guard service.createNamespace, let namespace = service.namespace else { return [] }
        return [
            KubeObject(body: [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": [
                    "name": .string(namespace),
                    "labels": [
                        WherryLabels.managedBy: .string(WherryLabels.managedByValue),
                        WherryLabels.service: .string(service.name),
                    ],
                    "annotations": [WherryLabels.ssa: "if-not-present", WherryLabels.prune: "disabled"],
                ],
            ])
        ]
    }
}

extension ReconcileOutcome {
    /// The commit a signature check refused, when that is why the reconcile failed.
    public var refusedCommit: String? {
        if case .failed(let error) = self { return error.refusedCommit }
        return nil
    }
}
