import Synchronization

/// Ends a reconcile's health wait early, from outside: a newer commit arrived for the service (apply it now, not
/// after the timeout), or the controller is shutting down. Fired once; later waits return at once.
public final class WaitInterruption: Sendable {
    private struct State {
        var reason: String?
        var waiters: [Int: CheckedContinuation<String?, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the wait was interrupted, once it was.
    public var reason: String? { state.withLock { $0.reason } }

    /// Interrupts the waits, now and later, with `reason`. The first reason stays.
    public func interrupt(_ reason: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<String?, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    /// Returns the reason once interrupted, or `nil` when the waiting task is cancelled first.
    public func wait() async -> String? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> String?? in
                    if let reason = state.reason { return .some(reason) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
