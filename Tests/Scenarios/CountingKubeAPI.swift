import Synchronization
public import WherryKube
public import WherryModel

/// A test decorator of ``KubeAPI``: forwards every call to a real client (HTTP to a fake or a real API server) and
/// counts them, so scenarios can say how many writes Wherry made, whatever server answers.
public final class CountingKubeAPI: KubeAPI {
    /// Calls made through this client.
    public struct Counts: Sendable, Hashable {
        public var gets = 0
        public var lists = 0
        public var dryRunApplies = 0
        /// Server-side applies that were not dry runs: writes.
        public var writes = 0
        public var deletes = 0

        /// Every request.
        public var total: Int { gets + lists + dryRunApplies + writes + deletes }
    }

    private let base: any KubeAPI
    private let state = Mutex(Counts())

    public init(_ base: any KubeAPI) {
        self.base = base
    }

    /// The counts so far.
    public var counts: Counts { state.withLock { $0 } }

    /// Starts counting from zero.
    public func reset() { state.withLock { $0 = Counts() } }

    public var server: String { base.server }

    public func get(_ path: String) async throws(KubeAPIError) -> JSONValue {
        state.withLock { $0.gets += 1 }
        return try await base.get(path)
    }

    public func list(_ path: String, labelSelector: String?) async throws(KubeAPIError) -> [JSONValue] {
        state.withLock { $0.lists += 1 }
        return try await base.list(path, labelSelector: labelSelector)
    }

    public func apply(
        _ path: String, object: JSONValue, options: ApplyOptions
    ) async throws(KubeAPIError)
        -> ApplyResponse
    {
        state.withLock { counts in
            if options.dryRun { counts.dryRunApplies += 1 } else { counts.writes += 1 }
        }
        return try await base.apply(path, object: object, options: options)
    }

    public func create(
        _ collectionPath: String, object: JSONValue, fieldManager: String
    ) async throws(KubeAPIError) -> JSONValue {
        state.withLock { $0.writes += 1 }
        return try await base.create(collectionPath, object: object, fieldManager: fieldManager)
    }

    public func update(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue
    {
        state.withLock { $0.writes += 1 }
        return try await base.update(path, object: object, fieldManager: fieldManager)
    }

    public func delete(_ path: String, options: DeleteOptions) async throws(KubeAPIError) {
        state.withLock { $0.deletes += 1 }
        try await base.delete(path, options: options)
    }
}
