public import Foundation
public import WherryModel

/// A ``StatusStore`` in front of another that keeps every service's status in memory: the controller is the only
/// writer, so the status API answers from memory and never queues behind the database. History is read through.
public actor CachingStatusStore: StatusStore {
    private let base: any StatusStore
    private var cache: [String: ServiceStatus]?

    public init(_ base: any StatusStore) {
        self.base = base
    }

    public func record(_ attempt: ReconcileAttempt) async throws(StatusStoreError) {
        try await base.record(attempt)
        let previous = try await loaded()[attempt.service]
        // In place: a copy of the whole map for every record is a thousand statuses copied per reconcile.
        cache?[attempt.service] = StatusRules.status(after: attempt, previous: previous)
    }

    public func status(of service: String) async throws(StatusStoreError) -> ServiceStatus? {
        try await loaded()[service]
    }

    public func statuses() async throws(StatusStoreError) -> [ServiceStatus] {
        try await loaded().values.sorted { $0.service < $1.service }
    }

    public func history(of service: String) async throws(StatusStoreError) -> [HistoryEntry] {
        try await base.history(of: service)
    }

    public func inventory(of service: String) async throws(StatusStoreError) -> Inventory? {
        try await base.inventory(of: service)
    }

    public func saveInventory(_ inventory: Inventory, of service: String) async throws(StatusStoreError) {
        try await base.saveInventory(inventory, of: service)
    }

    public func inventoryServices() async throws(StatusStoreError) -> [String] {
        try await base.inventoryServices()
    }

    public func forget(service: String) async throws(StatusStoreError) {
        try await base.forget(service: service)
        cache?[service] = nil
    }

    @discardableResult
    public func retainOnly(_ services: Set<String>) async throws(StatusStoreError) -> [String] {
        let removed = try await base.retainOnly(services)
        for service in removed { cache?[service] = nil }
        return removed
    }

    public func suspensions() async throws(StatusStoreError) -> [String: Date] {
        try await base.suspensions()
    }

    public func setSuspended(_ service: String, since date: Date?) async throws(StatusStoreError) {
        try await base.setSuspended(service, since: date)
    }

    private func loaded() async throws(StatusStoreError) -> [String: ServiceStatus] {
        if let cache { return cache }
        let statuses = try await base.statuses()
        let loaded = Dictionary(uniqueKeysWithValues: statuses.map { ($0.service, $0) })
        cache = loaded
        return loaded
    }
}
