public import Foundation
public import WherryModel

/// Where the controller keeps what it applied and what happened, per service, across restarts.
public protocol StatusStore: Sendable {
    /// Records one attempt: updates the service's status and history.
    func record(_ attempt: ReconcileAttempt) async throws(StatusStoreError)

    /// The status of one service; `nil` when it was never attempted.
    func status(of service: String) async throws(StatusStoreError) -> ServiceStatus?

    /// The status of every service ever attempted, by name.
    func statuses() async throws(StatusStoreError) -> [ServiceStatus]

    /// A service's history, newest first, at most ``StatusRules/historyLimit`` lines.
    func history(of service: String) async throws(StatusStoreError) -> [HistoryEntry]

    /// The copy of a service's inventory (the cluster holds the original); `nil` when none was saved.
    func inventory(of service: String) async throws(StatusStoreError) -> Inventory?

    /// Saves the copy of a service's inventory.
    func saveInventory(_ inventory: Inventory, of service: String) async throws(StatusStoreError)

    /// The services that have a saved inventory.
    func inventoryServices() async throws(StatusStoreError) -> [String]

    /// Removes everything kept about one service: its status, history and inventory copy (once `wherry prune
    /// --service` emptied a service that left the config).
    func forget(service: String) async throws(StatusStoreError)

    /// Removes everything kept about every service not in `services` (at start: the configured services and the
    /// orphaned ones, whose objects are still in the cluster); returns the services removed, by name.
    @discardableResult
    func retainOnly(_ services: Set<String>) async throws(StatusStoreError) -> [String]

    /// The services suspended at runtime (`wherry suspend`, `POST .../suspend`), with when each was suspended.
    func suspensions() async throws(StatusStoreError) -> [String: Date]

    /// Records that `service` is suspended at runtime (at `date`), or no longer is (`date` nil).
    func setSuspended(_ service: String, since date: Date?) async throws(StatusStoreError)
}

/// The state database could not be used; says which file and what to do.
public struct StatusStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A ``StatusStore`` in memory, for tests and for runs that keep no state.
public actor InMemoryStatusStore: StatusStore {
    private var current: [String: ServiceStatus] = [:]
    private var lines: [String: [HistoryEntry]] = [:]
    private var inventories: [String: Inventory] = [:]
    private var suspended: [String: Date] = [:]

    public init() {}

    public func suspensions() async throws(StatusStoreError) -> [String: Date] { suspended }

    public func setSuspended(_ service: String, since date: Date?) async throws(StatusStoreError) {
        suspended[service] = date
    }

    public func record(_ attempt: ReconcileAttempt) async throws(StatusStoreError) {
        current[attempt.service] = StatusRules.status(after: attempt, previous: current[attempt.service])
        lines[attempt.service] = StatusRules.history(after: attempt, previous: lines[attempt.service] ?? [])
    }

    public func status(of service: String) async throws(StatusStoreError) -> ServiceStatus? { current[service] }

    public func statuses() async throws(StatusStoreError) -> [ServiceStatus] {
        current.values.sorted { $0.service < $1.service }
    }

    public func history(of service: String) async throws(StatusStoreError) -> [HistoryEntry] { lines[service] ?? [] }

    public func inventory(of service: String) async throws(StatusStoreError) -> Inventory? { inventories[service] }

    public func saveInventory(_ inventory: Inventory, of service: String) async throws(StatusStoreError) {
        inventories[service] = inventory
    }

    public func inventoryServices() async throws(StatusStoreError) -> [String] { inventories.keys.sorted() }

    public func forget(service: String) async throws(StatusStoreError) {
        current[service] = nil
        lines[service] = nil
        inventories[service] = nil
        suspended[service] = nil
    }

    @discardableResult
    public func retainOnly(_ services: Set<String>) async throws(StatusStoreError) -> [String] {
        let removed = Set(current.keys).union(lines.keys).union(inventories.keys).union(suspended.keys).subtracting(
            services
        ).sorted()
        for service in removed { try await forget(service: service) }
        return removed
    }
}
