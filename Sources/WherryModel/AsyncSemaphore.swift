import Synchronization

/// A counting semaphore for tasks: at most `permits` holders at once, the others wait in arrival order. A waiter
/// whose task is cancelled stops waiting and takes no permit.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(permits: Int) {
        state = Mutex(State(available: max(1, permits)))
    }

    /// Waits for a permit and takes it; `false` when the task was cancelled first (then nothing is taken).
    public func acquire() async -> Bool {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.available > 0, state.waiters.isEmpty {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    /// Gives a permit back: to the longest waiter, if any.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume(returning: true)
    }

    /// Takes a permit for the caller to give back once with ``Permit/release()`` (again is a no-op); `nil` when
    /// cancelled first.
    public func permit() async -> Permit? {
        await acquire() ? Permit(self) : nil
    }

    /// One permit held, given back at most once.
    public final class Permit: Sendable {
        private let semaphore: AsyncSemaphore
        private let held = Mutex(true)

        init(_ semaphore: AsyncSemaphore) {
            self.semaphore = semaphore
        }

        /// Gives the permit back, the first time only.
        public func release() {
            guard
                held.withLock({ held in
                    defer { held = false }; return held
                })
            else { return }
            semaphore.release()
        }
    }
}
