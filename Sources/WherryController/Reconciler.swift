import Foundation
public import Logging
public import WherryGit
public import WherryKube
public import WherryModel

/// Why a reconcile was asked for.
public enum ReconcileTrigger: String, Sendable, Hashable {
    /// A poll saw the branch (maybe) move.
    case poll
    /// A retry after a failure.
    case retry
    /// A push webhook named the repository.
    case webhook
    /// Someone asked for this service by name: applies even when nothing changed, and even when suspended.
    case manual
    /// The periodic drift check: applies even when the tree did not change.
    case drift
    /// A config reload changed the service's settings: applies even when the tree did not change (not a manual
    /// sync, so `wherry reconcile --wait` does not take it for its own).
    case config

    /// Whether this trigger applies the service although its tree is the one last applied.
    var appliesUnchangedTree: Bool { self == .manual || self == .drift || self == .config }
}

/// What one reconcile of one service did.
public enum ReconcileOutcome: Sendable {
    /// `suspend: true`: left alone.
    case suspended
    /// What the render reads is what was last applied completely, here and in the cluster's record: nothing to do,
    /// not one API request made.
    case upToDate(revision: String, treeHash: String)
    /// Rendered and applied; recorded as succeeded.
    case applied(SyncResult, treeHash: String)
    /// Applied, but the health wait gave way to a newer commit that changes the service (it runs next) or to a
    /// shutdown; recorded as such, neither success nor failure.
    case superseded(SyncResult)
    /// Failed at rendering or applying; recorded as failed, the applied revision unchanged.
    case failed(SyncError)
    /// Cancelled (shutdown, a lost lease); not recorded, not retried, not notified.
    case cancelled
}

/// One reconcile of one service, as the steps ``reconcile(_:in:resolved:trigger:liveCache:interruption:)`` runs top
/// to bottom: locate → decide → render → plan (validate what can be checked offline, safety valves) → record intent
/// → apply (dry run of every object, then writes) → prune → record the inventory → wait for health → record.
/// `wherry run` calls it for every service it schedules; `wherry sync` runs the same steps (``ServiceSyncer/apply``).
public struct Reconciler: Sendable {
    public let syncer: ServiceSyncer
    public let store: any StatusStore
    private let logger: Logger
    /// How many objects that services wait on may be unseen by their controllers before a service that will wait
    /// holds back its apply (see ``HealthObserver/controllerBacklog``). The Deployment controller's default request
    /// rate works through 100 in about 15 s, well within any service's timeout.
    public var controllerBacklogLimit = 100

    public init(syncer: ServiceSyncer, store: any StatusStore, logger: Logger = Logger(label: "wherry.reconcile")) {
        self.syncer = syncer
        self.store = store
        self.logger = logger
    }

    /// What a service holds to run (``admit(slots:holdBack:)``): an apply slot from `slots`, and for a service
    /// that will wait for health a place in the controller backlog. Each is given back at most once, by the reconcile
    /// when it is done with it or by ``release()``.
    public struct Admission: Sendable {
        public var slots: AsyncSemaphore
        public var permit: AsyncSemaphore.Permit
        public var reservation: HealthObserver.Reservation?

        public func release() {
            permit.release()
            reservation?.release()
        }
    }

    /// Waits until a service may run, and takes what it runs with: an apply slot from `slots` (which bounds the
    /// services applying at once), then, when `holdBack` (a service that will wait for health), a place in the
    /// controller backlog. While the cluster's controllers are behind (``HealthObserver/controllerBacklog``) such a
    /// service gives its slot to the others and waits in arrival order, then takes a slot again: places are only
    /// ever held with a slot, so the services admitted together overshoot the backlog limit by at most the slots.
    /// `nil` when cancelled meanwhile (nothing is held then).
    ///
    /// A service waits here before its run starts, so a thousand queued services cost a thousand small waits, not a
    /// thousand reconciles' worth of state, and one held back locates its commit only once it may go (the head the
    /// branch has then).
    public func admit(slots: AsyncSemaphore, holdBack: Bool) async -> Admission? {
        guard let permit = await slots.permit() else { return nil }
        guard holdBack, syncer.applyer == nil else { return Admission(slots: slots, permit: permit) }
        guard let place = await backlogPlace(permit: permit, slots: slots, logger: logger), let held = place.permit
        else { return nil }
        return Admission(slots: slots, permit: held, reservation: place.reservation)
    }

    /// Reconciles `service`. `resolved` is the branch head the caller already asked for (one `ls-remote` per
    /// repository and poll, however many services use it). `interruption` ends the health wait early (a newer
    /// commit, a shutdown). `admission` is what ``admit(slots:holdBack:)`` gave: its apply slot is held from locate to the
    /// recorded inventory and given back before the health wait, so a service waiting for health lets the next one
    /// apply. Without one (a single reconcile), a service that will wait is held back here when the controllers
    /// are behind.
    public func reconcile(
        _ service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>? = nil,
        trigger: ReconcileTrigger, liveCache: LiveObjectCache? = nil, interruption: WaitInterruption? = nil,
        admission: Admission? = nil
    ) async -> ReconcileOutcome {
        var permit = admission?.permit
        var reservation = admission?.reservation
        defer {
            permit?.release()
            reservation?.release()
        }
        if service.suspend, trigger != .manual { return .suspended }
        var attempt = Attempt(service: service, logger: logger)
        let previous = await lastStatus(of: service.name, logger: attempt.logger)
        do throws(SyncError) {
            let located = try await locate(service, in: config, resolved: resolved)
            attempt.located(located)
            interruption?.located = located.commit
            if await isUpToDate(located, previous: previous, trigger: trigger, logger: attempt.logger) {
                return .upToDate(revision: located.commit, treeHash: located.treeHash)
            }
            if let applyer = syncer.applyer {
                let rendered = try await render(located)
                do throws(SyncError) {
                    let result = try await syncer.applyExternally(rendered, with: applyer, dryRun: false)
                    return await succeeded(result, attempt: attempt)
                } catch {
                    throw error.redacting(rendered.plaintextValues)
                }
            }
            // Not admitted with a place (a single reconcile, or `wait` turned on by a reload since): held back here.
            if service.wait, reservation == nil {
                guard let place = await backlogPlace(permit: permit, slots: admission?.slots, logger: attempt.logger)
                else { return .cancelled }
                reservation = place.reservation
                permit = place.permit
                if place.held {
                    // Shutting down, or the branch moved while held: not this commit.
                    let moved = interruption?.signals.contains {
                        if case .newHead(let head) = $0 { return head != located.commit }
                        return $0 == .shutdown
                    }
                    if moved == true || Task.isCancelled { return .cancelled }
                }
            }
            let (plan, result) = try await apply(
                located, in: config, previous: previous, trigger: trigger, liveCache: liveCache)
            permit?.release()
            if service.wait,
                let reason = try await waitForHealth(
                    plan, result: result, in: config, interruption: interruption, reservation: reservation)
            {
                return await superseded(result, reason: reason, attempt: attempt)
            }
            return await succeeded(result, attempt: attempt)
        } catch {
            // A lost lease or a shutdown cancels whatever step ran, and may surface as any error on the way.
            if error.isCancelled || Task.isCancelled { return .cancelled }
            return await failed(error, attempt: attempt)
        }
    }

    // MARK: - Steps

    /// A place in the controller backlog for a service about to apply: at once while the controllers keep up; else
    /// its apply slot (`permit`) goes to the others while it waits its turn (``waitForControllers(_:)``), and it
    /// takes one again from `slots`. Returns the place, the slot it holds now and whether it was held back; `nil`
    /// when cancelled while taking the slot again (the place is given back then).
    private func backlogPlace(
        permit: AsyncSemaphore.Permit?, slots: AsyncSemaphore?, logger: Logger
    ) async -> (reservation: HealthObserver.Reservation, permit: AsyncSemaphore.Permit?, held: Bool)? {
        if let reservation = syncer.health.reserve(below: controllerBacklogLimit) {
            return (reservation, permit, false)
        }
        permit?.release()
        let reservation = await waitForControllers(logger)
        guard let slots else { return (reservation, nil, true) }
        guard let again = await slots.permit() else {
            reservation.release()
            return nil
        }
        return (reservation, again, true)
    }

    /// Holds a service that will wait for health back while the cluster's controllers are far behind the objects
    /// already waited on (``HealthObserver/controllerBacklog``): applied now, it would only wait behind them, its
    /// `timeout` running out before its controller even looks, and then apply all over again. The controllers set
    /// the pace either way; this keeps waits short and retries away.
    private func waitForControllers(_ logger: Logger) async -> HealthObserver.Reservation {
        logger.debug(
            "Holding the apply back: the cluster's controllers are behind the objects services wait on",
            metadata: ["wherry.backlog": "\(syncer.health.controllerBacklog)"])
        let (reservation, waited) = await syncer.health.waitForControllers(below: controllerBacklogLimit)
        logger.debug("Applying after the cluster's controllers caught up", metadata: ["wherry.waited": "\(waited)"])
        return reservation
    }

    /// Render, plan, record intent, apply, prune, record the inventory. The plan comes back without its objects:
    /// a health wait needs their identities only, and a thousand services waiting must not hold every rendered
    /// manifest in memory.
    private func apply(
        _ located: ServiceCheckout, in config: WherryConfig, previous: ServiceStatus?, trigger: ReconcileTrigger,
        liveCache: LiveObjectCache?
    ) async throws(SyncError) -> (ServicePlan, SyncResult) {
        // A drift check of the render last applied needs no dry run for objects the live copies show unchanged.
        let options = SyncOptions(
            liveCache: liveCache,
            driftCheck: trigger == .drift && previous?.lastResult == .succeeded
                && previous?.lastAppliedTreeHash == located.treeHash,
            claims: ServiceClaims(config: config, syncer: syncer))
        let rendered = try await render(located)
        do throws(SyncError) {
            var plan = try await syncer.plan(rendered, options: options)
            try await syncer.recordIntent(&plan, dryRun: false)
            var result = try await syncer.applyObjects(plan, options: options)
            let pruned = await syncer.prune(plan, options: options)
            try await syncer.recordInventory(&plan, pruned: pruned, result: &result, dryRun: false)
            plan.rendered.objects = []
            return (plan, result)
        } catch {
            // The API server may quote a decrypted value back (a schema check, an admission webhook).
            throw error.redacting(rendered.plaintextValues)
        }
    }

    /// Locate: the commit checked out and the digest of everything the service's render reads.
    private func locate(
        _ service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>?
    ) async throws(SyncError) -> ServiceCheckout {
        do {
            return try await syncer.renderer.locate(service, in: config, resolved: resolved)
        } catch {
            throw .render(error)
        }
    }

    /// Decide: whether the last complete apply was of this very digest, by this process's record *and* the cluster's
    /// (another leader may have applied something else meanwhile). A manual sync or a drift check applies anyway.
    private func isUpToDate(
        _ located: ServiceCheckout, previous: ServiceStatus?, trigger: ReconcileTrigger, logger: Logger
    ) async -> Bool {
        guard !trigger.appliesUnchangedTree, let previous, previous.lastResult == .succeeded,
            previous.lastAppliedTreeHash == located.treeHash
        else { return false }
        // External appliers keep no inventory, so no record in the cluster either.
        guard syncer.applyer == nil else { return true }
        do {
            guard try await syncer.inventories.recordedDigest(of: located.service.name) == located.treeHash else {
                logger.info("The cluster's record differs from this replica's: applying")
                return false
            }
        } catch {
            logger.warning(
                "Cannot read the cluster's record of the last apply: applying",
                metadata: ["wherry.error": "\(error)"])
            return false
        }
        logger.debug("Nothing the render reads changed since its last complete apply")
        return true
    }

    /// Render: the objects of the located commit, labelled.
    private func render(_ located: ServiceCheckout) async throws(SyncError) -> RenderedService {
        do {
            return try await syncer.renderer.render(located)
        } catch {
            throw .render(error)
        }
    }

    /// Wait for health: `nil` once healthy, else why the wait ended early: a newer head of the branch that changes
    /// what this service renders (a commit that does not leaves the wait alone), or a shutdown.
    private func waitForHealth(
        _ plan: ServicePlan, result: SyncResult, in config: WherryConfig, interruption: WaitInterruption?,
        reservation: HealthObserver.Reservation?
    ) async throws(SyncError) -> String? {
        guard let interruption else {
            try await syncer.waitForHealth(plan, result: result, reservation: reservation)
            return nil
        }
        typealias Ended = Result<String?, SyncError>
        let ended: Ended = await withTaskGroup(of: Ended?.self) { group in
            group.addTask {
                do throws(SyncError) {
                    try await syncer.waitForHealth(plan, result: result, reservation: reservation)
                    return .success(nil)
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                await supersedingReason(plan, in: config, interruption: interruption).map { .success($0) }
            }
            var first: Ended?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? .success(nil)
        }
        return try ended.get()
    }

    /// Waits for a signal that should end the health wait of `plan`; `nil` when cancelled first.
    private func supersedingReason(
        _ plan: ServicePlan, in config: WherryConfig, interruption: WaitInterruption
    ) async -> String? {
        var index = 0
        while let signal = await interruption.signal(at: index) {
            index += 1
            switch signal {
            case .shutdown:
                return "the controller is shutting down"
            case .newHead(let head) where head != plan.commit:
                // Only a commit that changes what this service renders is worth more than the wait.
                guard
                    let next = try? await syncer.renderer.locate(plan.service, in: config, resolved: .success(head)),
                    next.treeHash != plan.rendered.treeHash
                else { continue }
                return "commit \(head.prefix(12)) changes the service; it is applied next"
            case .newHead:
                continue
            }
        }
        return nil
    }

    // MARK: - Record

    /// One attempt's bookkeeping: when it started, the commit it got to, and a logger that names both.
    private struct Attempt {
        let service: ServiceConfig
        var logger: Logger
        let started = Date()
        let clock = ContinuousClock.now
        var revision = ""
        var tree: String?

        init(service: ServiceConfig, logger: Logger) {
            self.service = service
            self.logger = logger
            self.logger[metadataKey: "wherry.service"] = "\(service.name)"
        }

        mutating func located(_ located: ServiceCheckout) {
            revision = located.commit
            tree = located.treeHash
            logger[metadataKey: "wherry.revision"] = "\(located.commit)"
        }

        var seconds: Double { (ContinuousClock.now - clock).inSeconds }
    }

    private func succeeded(_ result: SyncResult, attempt: Attempt) async -> ReconcileOutcome {
        let tree = attempt.tree ?? result.digest
        await record(
            ReconcileAttempt(
                service: attempt.service.name, revision: result.commit, treeHash: tree, result: .succeeded,
                counts: result.changes.counts, startedAt: attempt.started, durationSeconds: attempt.seconds,
                drifted: result.drifted.map(\.description)),
            logger: attempt.logger)
        if !result.drifted.isEmpty {
            attempt.logger.warning(
                "Drift corrected",
                metadata: [
                    "wherry.drifted": "\(result.drifted.count)",
                    "wherry.objects": "\(result.drifted.prefix(10).map(\.description).joined(separator: ", "))",
                ])
        }
        // One info line per reconcile that changed something; a check that found everything in place is debug.
        if result.changes.hasChanges || !result.drifted.isEmpty {
            attempt.logger.info(
                "Reconciled service",
                metadata: [
                    "wherry.changes": "\(result.changes.summary)",
                    "wherry.duration_ms": .stringConvertible(Int(attempt.seconds * 1000)),
                ])
        } else {
            attempt.logger.debug("Reconciled service: nothing changed")
        }
        return .applied(result, treeHash: tree)
    }

    private func superseded(_ result: SyncResult, reason: String, attempt: Attempt) async -> ReconcileOutcome {
        await record(
            ReconcileAttempt(
                service: attempt.service.name, revision: result.commit, treeHash: attempt.tree, result: .superseded,
                error: "health wait ended early: \(reason)", counts: result.changes.counts,
                startedAt: attempt.started, durationSeconds: attempt.seconds),
            logger: attempt.logger)
        attempt.logger.info(
            "Applied; the health wait ended early",
            metadata: ["wherry.reason": "\(reason)", "wherry.changes": "\(result.changes.summary)"])
        return .superseded(result)
    }

    private func failed(_ error: SyncError, attempt: Attempt) async -> ReconcileOutcome {
        await record(
            ReconcileAttempt(
                service: attempt.service.name, revision: error.commit.isEmpty ? attempt.revision : error.commit,
                treeHash: attempt.tree, result: .failed, error: error.description, startedAt: attempt.started,
                durationSeconds: attempt.seconds),
            logger: attempt.logger)
        attempt.logger.warning(
            "Reconcile failed",
            metadata: ["wherry.error": "\(error.description)", "wherry.transient": "\(error.isTransient)"])
        return .failed(error)
    }

    /// The recorded status; a store that cannot be read only costs the shortcut (the service is applied).
    private func lastStatus(of service: String, logger: Logger) async -> ServiceStatus? {
        do {
            return try await store.status(of: service)
        } catch {
            logger.error("Cannot read the service's status", metadata: ["wherry.error": "\(error)"])
            return nil
        }
    }

    private func record(_ attempt: ReconcileAttempt, logger: Logger) async {
        do {
            try await store.record(attempt)
        } catch {
            logger.error("Cannot record the reconcile", metadata: ["wherry.error": "\(error)"])
        }
    }
}
