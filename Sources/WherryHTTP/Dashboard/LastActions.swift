import Synchronization
public import WherryController
public import WherryModel

/// What the last apply of each service did to each of its objects (created, configured, unchanged, deleted, …), kept
/// in memory from the loop's events for the service pages; empty for a service not applied since the start.
public final class LastActions: Sendable {
    private let actions = Mutex<[String: [ObjectRef: ChangeSetEntry]]>([:])

    public init() {}

    /// Records what an applied (or superseded) reconcile did.
    public func record(_ event: ControllerEvent) {
        guard case .reconcileFinished(let service, let outcome) = event else { return }
        let changes: ChangeSet
        switch outcome {
        case .applied(let result, _), .superseded(let result): changes = result.changes
        case .upToDate, .failed, .suspended, .cancelled: return
        }
        let entries = Dictionary(changes.entries.map { ($0.ref, $0) }, uniquingKeysWith: { $1 })
        actions.withLock { $0[service] = entries }
    }

    /// The last action per object of one service.
    public func of(_ service: String) -> [ObjectRef: ChangeSetEntry] { actions.withLock { $0[service] ?? [:] } }
}
