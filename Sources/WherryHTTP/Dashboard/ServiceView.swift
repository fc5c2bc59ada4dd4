import Foundation
public import WherryController
import WherryModel

/// What the controller knows of every service at one moment, read once per page: the store's statuses and the
/// loop's schedules, waits and orphans. The status API and the dashboard derive states from the same snapshot.
public struct ControllerSnapshot: Sendable {
    public var config: WherryConfig
    public var statuses: [String: ServiceStatus]
    public var schedules: [String: ServiceSchedule]
    /// Services waiting for a dependency, with the dependency.
    public var blocked: [String: String]
    public var orphans: [String: Int]
    /// Services suspended at runtime (`wherry suspend`).
    public var suspended: Set<String>
    /// Where the inventories are (`--namespace`), for the prune command an orphan's hint gives.
    public var inventoryNamespace = "wherry-system"

    public init(
        config: WherryConfig, statuses: [String: ServiceStatus], schedules: [String: ServiceSchedule] = [:],
        blocked: [String: String] = [:], orphans: [String: Int] = [:], suspended: Set<String> = []
    ) {
        self.suspended = suspended
        self.config = config
        self.statuses = statuses
        self.schedules = schedules
        self.blocked = blocked
        self.orphans = orphans
    }

    /// Reads the store and the loop.
    public static func read(
        config: WherryConfig, store: any StatusStore, loop: ReconcileLoop
    ) async throws
        -> ControllerSnapshot
    {
        let statuses = try await store.statuses()
        var snapshot = ControllerSnapshot(
            config: config, statuses: Dictionary(statuses.map { ($0.service, $0) }, uniquingKeysWith: { $1 }),
            schedules: loop.schedules, blocked: loop.blocked, orphans: loop.orphans,
            suspended: Set(loop.runtimeSuspensions.keys))
        snapshot.inventoryNamespace = loop.reconciler.syncer.inventories.cluster.namespace
        return snapshot
    }

    /// The state the API and the dashboard show: `suspended`, `reconciling`, `waiting`, the last result
    /// (`succeeded`, `failed`, `superseded`), or `pending` before the first attempt.
    public func state(of service: ServiceConfig) -> String {
        ServiceStates.state(
            suspended: service.suspend || suspended.contains(service.name),
            running: schedules[service.name]?.running == true,
            waiting: blocked[service.name] != nil, lastResult: statuses[service.name]?.lastResult)
    }
}

/// The rule that names a service's state, in one place.
public enum ServiceStates {
    /// Every state, in the order failures-first sorting uses.
    public static let order = ["failed", "waiting", "reconciling", "superseded", "pending", "succeeded", "suspended"]

    public static func state(suspended: Bool, running: Bool, waiting: Bool, lastResult: ReconcileResult?) -> String {
        if suspended { return "suspended" }
        if running { return "reconciling" }
        if waiting { return "waiting" }
        return lastResult?.rawValue ?? "pending"
    }
}
