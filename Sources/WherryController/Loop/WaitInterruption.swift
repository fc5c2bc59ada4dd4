import Synchronization

/// What the loop and one running reconcile share: the commit the reconcile located, and signals that may end its
/// health wait early — a newer head of its branch (the reconcile checks whether anything it renders changed there:
/// an unrelated commit leaves the wait alone), or a shutdown.
public final class WaitInterruption: Sendable {
    /// Why the loop asks a wait to end.
    public enum Signal: Sendable, Hashable {
        /// The branch moved to this commit.
        case newHead(String)
        /// The controller is shutting down: end the wait.
        case shutdown
    }

    private struct State {
        var located: String?
        var signals: [Signal] = []
        var waiters: [Int: CheckedContinuation<Signal?, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The commit the reconcile located (set by the reconcile once it knows it).
    public var located: String? {
        get { state.withLock { $0.located } }
        set { state.withLock { $0.located = newValue } }
    }

    /// Signals so far.
    public var signals: [Signal] { state.withLock { $0.signals } }

    /// Sends a signal to the waits, now and later.
    public func send(_ signal: Signal) {
        let waiters = state.withLock { state -> [CheckedContinuation<Signal?, Never>] in
            state.signals.append(signal)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: signal) }
    }

    /// Signal number `index` (0 for the first), once sent; `nil` when the waiting task is cancelled first.
    public func signal(at index: Int) async -> Signal? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Signal?? in
                    if index < state.signals.count { return .some(state.signals[index]) }
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
