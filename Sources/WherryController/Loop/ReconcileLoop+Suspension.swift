public import Foundation
import Logging
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

    /// Resumes `name` and reconciles it now; returns whether it was suspended.
    @discardableResult
    public func resume(service name: String) async throws(SuspensionError) -> Bool {
        guard let service = config.service(named: name) else { throw .unknownService(name) }
        if service.suspend { throw .suspendedByConfig(service: name, file: config.file) }
        guard state.withLock({ $0.suspended[name] != nil }) else { return false }
        try await record(name, since: nil)
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

    /// Reads the runtime suspensions at the start of a term: the cluster's, else (unreachable) the store's copy.
    /// The store is brought in line with the cluster.
    func loadSuspensions() async {
        let stored = (try? await reconciler.store.suspensions()) ?? [:]
        var suspended: [String: Date]
        do {
            let cluster = try await reconciler.syncer.inventories.suspensions()
            suspended = cluster.mapValues { (try? Date($0, strategy: .iso8601)) ?? Date() }
            for (name, date) in suspended where stored[name] == nil {
                try? await reconciler.store.setSuspended(name, since: date)
            }
            for name in stored.keys where suspended[name] == nil {
                try? await reconciler.store.setSuspended(name, since: nil)
            }
        } catch {
            logger.warning(
                "Cannot read the suspensions kept in the cluster; using the state store's copy",
                metadata: ["wherry.error": "\(error)"])
            suspended = stored
        }
        suspended = suspended.filter { config.service(named: $0.key) != nil }
        state.withLock { $0.suspended = suspended }
        for name in suspended.keys.sorted() {
            logger.info(
                "Service is suspended (wherry resume \(name) resumes it)", metadata: ["wherry.service": "\(name)"])
        }
    }
}
