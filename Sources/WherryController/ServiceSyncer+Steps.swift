public import WherryKube
public import WherryModel

/// What the steps of one service's apply share, settled by ``ServiceSyncer/plan(_:options:)``.
public struct ServicePlan: Sendable {
    public var rendered: RenderedService
    /// The inventory the rendered objects make.
    public var now: Inventory
    /// The inventory as the cluster holds it (updated by each step that writes it).
    public var stored: StoredInventory
    /// Entries that left Git since the last apply.
    public var left: [InventoryEntry]
    /// The entries to prune: `left`, unless the service has `prune: false`.
    public var candidates: [InventoryEntry]

    public var service: ServiceConfig { rendered.service }
    public var commit: String { rendered.commit }
}

extension ServiceSyncer {
    /// The safety valve for an empty render: applying it would prune everything the service owns.
    static func refuseEmpty(_ rendered: RenderedService) throws(SyncError) {
        let service = rendered.service
        guard rendered.objects.isEmpty, !service.allowEmpty else { return }
        throw .refused(
            service: service.name, commit: rendered.commit,
            reason: "the render of \(service.directory) holds no objects, so applying it would prune everything "
                + "the service owns; check k8s_yaml_dir and the branch, or set allow_empty: true on the service "
                + "if it is meant to be empty")
    }

    /// Plans the apply: the inventory the objects make (every kind's scope known), the one the cluster holds, what
    /// left Git, and the safety valves (an empty render, a prune of more than half the inventory). Reads only.
    public func plan(_ rendered: RenderedService, options: SyncOptions) async throws(SyncError) -> ServicePlan {
        let service = rendered.service
        let commit = rendered.commit
        try Self.refuseEmpty(rendered)
        let stored: StoredInventory
        do {
            stored = try await inventories.load(service: service.name, preloaded: options.inventories)
        } catch {
            // Usually the first request of a sync: a cluster that cannot be reached is said as such, once.
            if error.isClusterWide || error.isCancelled {
                throw .apply(
                    service: service.name, commit: commit, ApplyError(cluster: error, server: manager.api.server))
            }
            throw .inventory(service: service.name, commit: commit, error)
        }
        if let foreign = inventories.foreignOwner(of: service.name, stored) {
            throw .refused(service: service.name, commit: commit, reason: foreign)
        }
        let now: Inventory
        do {
            now = try await inventory(of: rendered)
        } catch {
            throw .apply(service: service.name, commit: commit, error)
        }
        let previous = stored.inventory
        let left = previous.subtracting(now)
        let candidates = service.prune && !options.noPrune ? left : []
        // The valve counts what the service owned after its last complete apply: entries an unfinished apply
        // recorded (maybe never written, say a commit the dry run refused and that was then reverted) do not count.
        let settled = previous.subtracting(stored.pending).count
        let settledCandidates = candidates.filter { !stored.pending.contains($0.ref) }
        if settledCandidates.count * 2 > settled, !service.allowEmpty, !options.allowMassPrune {
            let names = settledCandidates.prefix(5).map(\.description).joined(separator: ", ")
            throw .refused(
                service: service.name, commit: commit,
                reason: "this sync would prune \(settledCandidates.count) of the \(settled) objects the service owns "
                    + "(\(names)\(settledCandidates.count > 5 ? ", …" : "")); if that is intended, run `wherry sync --service "
                    + "\(service.name) --allow-mass-prune` or set allow_empty: true on the service")
        }
        return ServicePlan(rendered: rendered, now: now, stored: stored, left: left, candidates: candidates)
    }

    /// Records what is about to be written before anything is: the inventory becomes previous ∪ now, and the digest
    /// of the last complete apply is cleared. A sync that fails half-way, or a process killed mid-apply, leaves
    /// every object it may have written in the inventory (pruned once Git drops it), and no leader takes the
    /// half-applied cluster for a complete apply. Nothing is written when the inventory already says so.
    public func recordIntent(_ plan: inout ServicePlan, dryRun: Bool) async throws(SyncError) {
        guard !dryRun else { return }
        let owned = plan.stored.inventory.merging(plan.now)
        let digestStale = plan.stored.digest != nil && plan.stored.digest != plan.rendered.treeHash
        guard owned != plan.stored.inventory || digestStale else { return }
        // What this apply adds is pending until it completes.
        let pending = plan.stored.pending.merging(Inventory(plan.now.subtracting(plan.stored.inventory)))
        plan.stored = try await save(owned, plan: plan, digest: nil, pending: pending)
    }

    /// Applies the objects (validated as a unit by a server-side dry run first; see ``ResourceManager/apply``).
    public func applyObjects(_ plan: ServicePlan, options: SyncOptions) async throws(SyncError) -> SyncResult {
        let service = plan.service
        var applySet = applyOptions(for: service, dryRun: options.dryRun, liveCache: options.liveCache)
        applySet.driftCheck = options.driftCheck
        let changes: ChangeSet
        do {
            changes = try await manager.apply(namespaceObject(for: service) + plan.rendered.objects, options: applySet)
        } catch {
            throw .apply(service: service.name, commit: plan.commit, error)
        }
        var result = SyncResult(service: service.name, commit: plan.commit, changes: changes)
        result.digest = plan.rendered.treeHash
        if options.driftCheck {
            result.drifted = changes.entries.filter { $0.action == .created || $0.action == .configured }.map(\.ref)
        }
        return result
    }

    /// Prunes what left Git (see ``prune(_:service:dryRun:claims:)``); with `prune: false`, says what stays.
    public func prune(_ plan: ServicePlan, options: SyncOptions) async -> PruneResult {
        if options.noPrune, plan.service.prune {
            // Kept in the inventory: the next sync that prunes still knows them.
            var result = PruneResult()
            result.changes.entries = plan.left.map { ChangeSetEntry(ref: $0.ref, action: .kept, note: "--no-prune") }
            result.retained = plan.left
            return result
        }
        if !plan.service.prune, !plan.left.isEmpty {
            logger.notice(
                "Objects left Git; prune is off for this service, so they stay in the cluster",
                metadata: ["wherry.service": "\(plan.service.name)", "wherry.objects": "\(plan.left.count)"])
        }
        return await prune(
            plan.candidates, service: plan.service.name, propagation: plan.service.prunePropagation,
            dryRun: options.dryRun, claims: options.claims)
    }

    /// Records the inventory after the prune (what Git holds now, plus what could not be pruned) with the digest of
    /// this render, which marks the apply complete; then fails the sync if a delete failed (retried later).
    public func recordInventory(
        _ plan: inout ServicePlan, pruned: PruneResult, result: inout SyncResult, dryRun: Bool
    ) async throws(SyncError) {
        result.changes.entries += pruned.changes.entries
        result.inventory = plan.now.merging(Inventory(pruned.retained))
        let complete = pruned.failures.isEmpty
        let digest = complete ? plan.rendered.treeHash : nil
        // Every object of `now` was applied, and every retained one exists: nothing is pending any more.
        if !dryRun,
            result.inventory != plan.stored.inventory || digest != plan.stored.digest || !plan.stored.pending.isEmpty
                || inventories.needsAdoption(plan.stored)
        {
            plan.stored = try await save(result.inventory, plan: plan, digest: digest)
        }
        if !complete {
            throw .apply(
                service: plan.service.name, commit: plan.commit,
                ApplyError(step: .prune, failures: pruned.failures, applied: result.changes))
        }
    }

    /// Waits until the applied objects are healthy, or fails with what each still awaits (`timeout:` of the
    /// service), on the shared ``HealthObserver``: waiting costs no request. Cancelled when the surrounding task is
    /// (a new commit, a shutdown).
    /// `reservation`, a place held in the controllers' backlog for this service, is released once it waits.
    public func waitForHealth(
        _ plan: ServicePlan, result: SyncResult, reservation: HealthObserver.Reservation? = nil
    ) async throws(SyncError) {
        do {
            try await health.waitUntilHealthy(
                plan.now.entries, generations: result.changes.generations,
                timeout: .seconds(plan.service.timeout ?? ServiceConfig.defaultTimeout), reservation: reservation)
        } catch {
            var error = error
            error.applied = result.changes
            throw .apply(service: plan.service.name, commit: plan.commit, error)
        }
    }

    private func save(
        _ inventory: Inventory, plan: ServicePlan, digest: String?, pending: Inventory = Inventory()
    ) async throws(SyncError) -> StoredInventory {
        do {
            return try await inventories.save(
                inventory, service: plan.service.name, revision: plan.commit, digest: digest, pending: pending,
                replacing: plan.stored)
        } catch {
            throw .inventory(service: plan.service.name, commit: plan.commit, error)
        }
    }
}
