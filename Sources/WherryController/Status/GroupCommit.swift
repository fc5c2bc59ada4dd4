import Synchronization

/// Group commit: writes that arrive while one is running wait and are written together, in one transaction, when
/// it ends. An idle store writes at once; a busy one pays one commit (one fsync) per batch instead of per record.
/// Each caller returns once its own item is committed, with its own outcome.
final class GroupCommit<Item: Sendable, Failure: Error>: Sendable {
    typealias Outcome = Result<Void, Failure>

    private enum Ticket {
        /// Written by another caller's batch.
        case done(Outcome)
        /// Nobody is writing: this caller writes, and then what arrived meanwhile.
        case lead
    }

    private struct State {
        var pending: [(item: Item, waiter: CheckedContinuation<Ticket, Never>)] = []
        var writing = false
    }

    private let state = Mutex(State())
    /// Writes a batch in one transaction, returning one outcome per item, in order.
    private let write: @Sendable ([Item]) async -> [Outcome]

    init(write: @escaping @Sendable ([Item]) async -> [Outcome]) {
        self.write = write
    }

    /// Commits `item`, alone or with others.
    func submit(_ item: Item) async -> Outcome {
        let ticket = await withCheckedContinuation { (waiter: CheckedContinuation<Ticket, Never>) in
            let lead = state.withLock { state -> Bool in
                if state.writing {
                    state.pending.append((item, waiter))
                    return false
                }
                state.writing = true
                return true
            }
            if lead { waiter.resume(returning: .lead) }
        }
        if case .done(let outcome) = ticket { return outcome }
        var own: Outcome?
        var batch: [(item: Item, waiter: CheckedContinuation<Ticket, Never>?)] = [(item, nil)]
        while true {
            let outcomes = await write(batch.map(\.item))
            for (entry, outcome) in zip(batch, outcomes) {
                if let waiter = entry.waiter { waiter.resume(returning: .done(outcome)) } else { own = outcome }
            }
            let next = state.withLock { state in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.writing = false }
                return state.pending
            }
            guard !next.isEmpty else { break }
            batch = next.map { ($0.item, $0.waiter) }
        }
        guard let own else { preconditionFailure("GroupCommit: the writer answered fewer items than it was given") }
        return own
    }
}
