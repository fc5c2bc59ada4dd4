import Foundation
public import Logging
public import WherryGit
public import WherryKube
import WherryModel

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

    /// Whether this trigger applies the service although its tree is the one last applied.
    var appliesUnchangedTree: Bool { self == .manual || self == .drift }
}

/// What one reconcile of one service did.
public enum ReconcileOutcome: Sendable {
    /// `suspend: true`: left alone.
    case suspended
    /// The directory holds the tree last applied successfully: nothing to do, not one API request made.
    case upToDate(revision: String, treeHash: String)
    /// Rendered and applied; recorded as succeeded.
    case applied(SyncResult, treeHash: String)
    /// Failed at rendering or applying; recorded as failed, the applied revision unchanged.
    case failed(SyncError)
    /// Cancelled (shutdown, a newer trigger); not recorded.
    case cancelled
}

/// One reconcile of one service, as explicit steps: locate the commit and the service's tree → decide (the tree
/// last applied successfully: stop, zero API calls) → render → apply → record. `wherry run` calls it for every
/// service it schedules.
public struct Reconciler: Sendable {
    public let syncer: ServiceSyncer
    public let store: any StatusStore
    private let logger: Logger

    public init(syncer: ServiceSyncer, store: any StatusStore, logger: Logger = Logger(label: "wherry.reconcile")) {
        self.syncer = syncer
        self.store = store
        self.logger = logger
    }

    /// Reconciles `service`. `resolved` is the branch head the caller already asked for (one `ls-remote` per
    /// repository and poll, however many services use it).
    public func reconcile(
        _ service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>? = nil,
        trigger: ReconcileTrigger, liveCache: LiveObjectCache? = nil
    ) async -> ReconcileOutcome {
        if service.suspend, trigger != .manual { return .suspended }
        let started = Date()
        let clock = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "wherry.service"] = "\(service.name)"
        let previous = await lastStatus(of: service.name, logger: logger)

        let located: ServiceCheckout
        do {
            located = try await syncer.renderer.locate(service, in: config, resolved: resolved)
        } catch {
            return await failed(
                .render(error), service: service, revision: "", tree: nil, started: started, clock: clock,
                logger: logger)
        }
        logger[metadataKey: "wherry.revision"] = "\(located.commit)"
        if !trigger.appliesUnchangedTree, let previous, previous.lastResult == .succeeded,
            previous.lastAppliedTreeHash == located.treeHash
        {
            logger.debug("Service directory unchanged since its last apply")
            return .upToDate(revision: located.commit, treeHash: located.treeHash)
        }

        let rendered: RenderedService
        do {
            rendered = try await syncer.renderer.render(located)
        } catch {
            return await failed(
                .render(error), service: service, revision: located.commit, tree: located.treeHash, started: started,
                clock: clock, logger: logger)
        }
        let result: SyncResult
        // A drift check of the tree last applied needs no dry run for objects the live copies show unchanged.
        let driftCheck =
            trigger == .drift && previous?.lastResult == .succeeded && previous?.lastAppliedTreeHash == located.treeHash
        let options = SyncOptions(
            liveCache: liveCache, driftCheck: driftCheck, claims: ServiceClaims(config: config, syncer: syncer))
        do {
            result = try await syncer.apply(rendered, options: options)
        } catch {
            if error.isCancelled { return .cancelled }
            return await failed(
                error, service: service, revision: located.commit, tree: located.treeHash, started: started,
                clock: clock, logger: logger)
        }
        await record(
            ReconcileAttempt(
                service: service.name, revision: located.commit, treeHash: located.treeHash, result: .succeeded,
                counts: result.changes.counts, startedAt: started,
                durationSeconds: (ContinuousClock.now - clock).inSeconds, drifted: result.drifted.map(\.description)),
            logger: logger)
        if !result.drifted.isEmpty {
            logger.warning(
                "Drift corrected",
                metadata: [
                    "wherry.drifted": "\(result.drifted.count)",
                    "wherry.objects": "\(result.drifted.prefix(10).map(\.description).joined(separator: ", "))",
                ])
        }
        logger.info("Reconciled service", metadata: ["wherry.changes": "\(result.changes.summary)"])
        return .applied(result, treeHash: located.treeHash)
    }

    private func failed(
        _ error: SyncError, service: ServiceConfig, revision: String, tree: String?, started: Date,
        clock: ContinuousClock.Instant, logger: Logger
    ) async -> ReconcileOutcome {
        await record(
            ReconcileAttempt(
                service: service.name, revision: revision, treeHash: tree, result: .failed,
                error: error.description, startedAt: started, durationSeconds: (ContinuousClock.now - clock).inSeconds),
            logger: logger)
        logger.warning(
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
