public import Logging
public import WherryKube
public import WherryModel

/// The outcome of syncing one service.
public struct SyncResult: Sendable {
    public var service: String
    public var commit: String
    public var changes: ChangeSet
}

/// Syncing one service failed, at rendering or at applying.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    case render(ServiceRenderError)
    case apply(service: String, commit: String, ApplyError)

    public var description: String {
        switch self {
        case .render(let error): error.description
        case .apply(let service, let commit, let error):
            "service \(service) at \(commit.prefix(12)): \(error.description)"
        }
    }

    /// Whether a later attempt may succeed without a change in Git (a controller retries these with backoff).
    public var isTransient: Bool {
        switch self {
        case .render(let error): error.isTransient
        case .apply(_, _, let error): error.isTransient
        }
    }

    /// Whether the sync was cancelled (shutdown, a newer trigger): not a failure to record.
    public var isCancelled: Bool {
        if case .apply(_, _, let error) = self { return error.isCancelled }
        return false
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
    private let logger: Logger

    public init(
        renderer: ServiceRenderer, manager: ResourceManager, concurrency: Int = ApplySetOptions.defaultConcurrency,
        defaultNamespace: String = "default",
        logger: Logger = Logger(label: "wherry.sync")
    ) {
        self.renderer = renderer
        self.manager = manager
        self.concurrency = concurrency
        self.defaultNamespace = defaultNamespace
        self.logger = logger
    }

    /// Options for applying one service's objects; `liveCache` shares live objects between services.
    public func applyOptions(
        for service: ServiceConfig, dryRun: Bool, liveCache: LiveObjectCache? = nil
    ) -> ApplySetOptions {
        ApplySetOptions(
            defaultNamespace: service.namespace ?? defaultNamespace,
            liveSelector: WherryLabels.serviceSelector(service.name), liveCache: liveCache,
            concurrency: concurrency, dryRun: dryRun)
    }

    /// Applies one rendered service as a unit.
    public func apply(
        _ rendered: RenderedService, dryRun: Bool = false, liveCache: LiveObjectCache? = nil
    ) async throws(SyncError) -> SyncResult {
        let service = rendered.service
        do {
            let changes = try await manager.apply(
                rendered.objects, options: applyOptions(for: service, dryRun: dryRun, liveCache: liveCache))
            logger.info(
                "Synced service",
                metadata: [
                    "wherry.service": "\(service.name)", "wherry.revision": "\(rendered.commit)",
                    "wherry.changes": "\(changes.summary)", "wherry.dry_run": "\(dryRun)",
                ])
            return SyncResult(service: service.name, commit: rendered.commit, changes: changes)
        } catch {
            throw .apply(service: service.name, commit: rendered.commit, error)
        }
    }
}
