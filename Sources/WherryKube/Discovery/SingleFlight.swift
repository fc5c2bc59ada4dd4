import Synchronization

/// Runs one operation per key at a time for any number of concurrent callers: the first caller (the leader) runs it
/// in its own task, and the others wait for its result instead of sending the same request again.
///
/// Cancellation stays structured, with no task of its own: a cancelled waiter stops waiting at once; a cancelled
/// leader cancels the operation itself (it runs in the leader's task), and the waiters still interested try again,
/// one of them becoming the new leader. Nothing outlives the callers that wanted it.
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// What a waiter gets.
    private enum Outcome: Sendable {
        case value(Value)
        /// The leader has nothing to share (it was cancelled): try again.
        case retry
        /// The waiter itself was cancelled.
        case cancelled
    }

    /// Where one waiter is: joined but not yet suspended, suspended, or told its outcome before it suspended.
    private enum Waiter {
        case joined
        case waiting(CheckedContinuation<Outcome, Never>)
        case told(Outcome)
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 0
        /// The waiters of each flight in progress; a key is here while its leader runs.
        var flights: [Key: [UInt64]] = [:]
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// The result of `operation` for `key`: run by this caller when no call for `key` is in flight, otherwise the
    /// in-flight call's result. `operation` returns `nil` when it has no result to share (it was cancelled); then
    /// the waiters try again. `nil` when this caller was cancelled (or led a call that returned `nil`).
    func run(
        _ key: Key, isolation: isolated (any Actor)? = #isolation, _ operation: () async -> Value?
    ) async -> Value? {
        while true {
            let joined: UInt64? = state.withLock { state in
                guard state.flights[key] != nil else {
                    state.flights[key] = []
                    return nil
                }
                let id = state.nextID
                state.nextID += 1
                state.flights[key, default: []].append(id)
                state.waiters[id] = .joined
                return id
            }
            guard let id = joined else {
                let value = await operation()
                finish(key, with: value.map(Outcome.value) ?? .retry)
                return value
            }
            switch await wait(id) {
            case .value(let value): return value
            case .retry: continue
            case .cancelled: return nil
            }
        }
    }

    /// Suspends waiter `id` until its outcome, or until its task is cancelled.
    private func wait(_ id: UInt64, isolation: isolated (any Actor)? = #isolation) async -> Outcome {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let told: Outcome? = state.withLock { state in
                    if case .told(let outcome)? = state.waiters[id] {
                        state.waiters[id] = nil
                        return outcome
                    }
                    state.waiters[id] = .waiting(continuation)
                    return nil
                }
                if let told { continuation.resume(returning: told) }
            }
        } onCancel: {
            tell(id, .cancelled)
        }
    }

    /// Ends the flight of `key`: every waiter gets `outcome`.
    private func finish(_ key: Key, with outcome: Outcome) {
        let ids = state.withLock { $0.flights.removeValue(forKey: key) ?? [] }
        for id in ids { tell(id, outcome) }
    }

    /// Gives waiter `id` its outcome, unless it has one already: resumes it when suspended, or leaves the outcome
    /// for it to find when it suspends.
    private func tell(_ id: UInt64, _ outcome: Outcome) {
        let continuation: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            switch state.waiters[id] {
            case .joined?:
                state.waiters[id] = .told(outcome)
                return nil
            case .waiting(let continuation)?:
                state.waiters[id] = nil
                return continuation
            case .told?, nil:
                return nil
            }
        }
        continuation?.resume(returning: outcome)
    }
}
