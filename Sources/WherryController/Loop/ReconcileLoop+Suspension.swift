public import Foundation
import Logging
import ServiceLifecycle
import WherryKube
import WherryModel

/// Why a suspension or resumption was refused.
public enum SuspensionError: Error, Sendable, CustomStringConvertible {
    /// No such service in the config.
    case unknownService(String)
    /// `suspend: true` in the config: only an edit of the config resumes it.
    case suspendedByConfig(service: String, file: String)
    /// The cluster or the state store could not record it.
    case notRecorded(service: String, reason: String)

    public var description: String {
        switch self {
        case .unknownService(let name): "no service named '\(name)'"
        case .suspendedByConfig(let service, let file):
            "service \(service) is suspended by its config (suspend: true in \(file)); remove that line (or set "
                + "suspend: false) to resume it"
        case .notRecorded(let service, let reason):
            "the suspension of service \(service) could not be recorded: \(reason)"
        }
    }
}

/// Runtime suspension (`wherry suspend` / `wherry resume`, `POST /v1/gitops/services/{name}/suspend|resume`): kept
/// in the cluster (an annotation on the service's inventory ConfigMap: it survives a new state directory and a new
/// leader) and in the state store. A suspended service is neither reconciled, drift-corrected nor pruned. The
/// config's `suspend: true` wins: such a service cannot be resumed at runtime.
extension ReconcileLoop {
    /// Who suspended a service.
    public enum SuspendedBy: String, Sendable {
        case config, api
    }

    /// Whether and by whom `name` is suspended; `nil` when it is not.
    public func suspension(of name: String) -> (by: SuspendedBy, since: Date?)? {
        if config.service(named: name)?.suspend == true { return (.config, nil) }
        return state.withLock { $0.suspended[name] }.map { (.api, $0) }
    }

    /// Whether `name` is suspended, by the config or at runtime.
    public func isSuspended(_ name: String) -> Bool { suspension(of: name) != nil }

    /// The services suspended at runtime, with since when.
    public var runtimeSuspensions: [String: Date] { state.withLock { $0.suspended } }

    /// Suspends `name` at runtime; returns whether that changed anything (a suspended service stays as it is).
    @discardableResult
    public func suspend(service name: String, at date: Date = Date()) async throws(SuspensionError) -> Bool {
        guard let service = config.service(named: name) else { throw .unknownService(name) }
        if service.suspend || state.withLock({ $0.suspended[name] != nil }) { return false }
        let since = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        try await record(name, since: since)
        state.withLock { $0.suspended[name] = since }
        logger.info("Service suspended", metadata: ["wherry.service": "\(name)"])
        emit(.suspension(service: name, suspended: true))
        return true
    }

    /// Resumes `name` and reconciles it now; returns whether it was suspended. The cluster's annotation is cleared
    /// whatever this process believes (another replica, or a LIST that failed, may have left it): resuming twice is
    /// harmless.
    @discardableResult
    public func resume(service name: String) async throws(SuspensionError) -> Bool {
        guard let service = config.service(named: name) else { throw .unknownService(name) }
        if service.suspend { throw .suspendedByConfig(service: name, file: config.file) }
        try await record(name, since: nil)
        guard state.withLock({ $0.suspended[name] != nil }) else { return false }
        state.withLock { $0.suspended[name] = nil }
        logger.info("Service resumed", metadata: ["wherry.service": "\(name)"])
        emit(.suspension(service: name, suspended: false))
        // What happened in Git meanwhile is applied now.
        enqueue(name, .poll, newCommit: true)
        return true
    }

    /// Writes the suspension to the cluster (the original), then to the store (the copy).
    private func record(_ name: String, since date: Date?) async throws(SuspensionError) {
        do {
            try await reconciler.syncer.inventories.setSuspended(
                service: name, since: date.map { $0.formatted(.iso8601) })
        } catch {
            throw .notRecorded(service: name, reason: "\(error)")
        }
        do {
            try await reconciler.store.setSuspended(name, since: date)
        } catch {
            logger.warning(
                "Cannot record the suspension in the state store; the cluster holds it",
                metadata: ["wherry.service": "\(name)", "wherry.error": "\(error)"])
        }
    }

    /// Reads the runtime suspensions at the start of a term, before any work runs: the cluster's (the LIST is tried
    /// again after each of ``suspensionReadRetries``, unless the term is cancelled or shut down), else the store's
    /// copy. The store is brought in line with the cluster. A suspension or resumption accepted meanwhile (the API
    /// serves while this reads) is newer than the answer, and is kept.
    func loadSuspensions() async {
        let before = state.withLock { $0.suspended }
        let stored = (try? await reconciler.store.suspensions()) ?? [:]
        var suspended: [String: Date]
        if let cluster = await readClusterSuspensions() {
            suspended = cluster.mapValues { (try? Date($0, strategy: .iso8601)) ?? Date() }
            for (name, date) in suspended where stored[name] == nil {
                try? await reconciler.store.setSuspended(name, since: date)
            }
            for name in stored.keys where suspended[name] == nil {
                try? await reconciler.store.setSuspended(name, since: nil)
            }
        } else {
            logger.warning(
                "Cannot read the suspensions kept in the cluster; using the state store's copy",
                metadata: ["wherry.suspended": "\(stored.keys.sorted().joined(separator: ", "))"])
            suspended = stored
        }
        suspended = suspended.filter { config.service(named: $0.key) != nil }
        let merged = state.withLock { state in
            for name in Set(before.keys).union(state.suspended.keys) where before[name] != state.suspended[name] {
                suspended[name] = state.suspended[name]
            }
            state.suspended = suspended
            return suspended
        }
        for name in merged.keys.sorted() {
            logger.info(
                "Service is suspended (wherry resume \(name) resumes it)", metadata: ["wherry.service": "\(name)"])
        }
    }

    /// The suspensions the cluster's inventories hold, read with one LIST, tried again after each delay of
    /// ``suspensionReadRetries`` and then after its last delay, for as long as it takes: no work runs before (it could
    /// not apply anyway while the cluster cannot be read). `nil` only when the term ended while waiting.
    private func readClusterSuspensions() async -> [String: String]? {
        var delays = suspensionReadRetries[...]
        let last = suspensionReadRetries.last ?? .seconds(15)
        while true {
            do {
                return try await reconciler.syncer.inventories.suspensions()
            } catch {
                guard !Task.isCancelled, !state.withLock({ $0.stopping }) else { return nil }
                let delay = delays.popFirst() ?? last
                logger.warning(
                    "Cannot read the suspensions kept in the cluster; trying again before any service runs",
                    metadata: ["wherry.error": "\(error)", "wherry.retry_in": "\(delay)"])
                let slept: Void? = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                guard slept != nil else { return nil }
            }
        }
    }
}
