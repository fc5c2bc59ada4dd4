/// When one service runs: the loop's per-service state machine, pure so it can be tested without time passing.
///
/// Triggers coalesce: while a reconcile runs, further triggers leave one pending run (the strongest of them).
/// A failure schedules a retry with exponential backoff (5 s, ×2, at most 5 min, ±10% jitter); a success clears it.
/// During a backoff a poll that saw no new commit waits for the retry; a new commit, a webhook or a manual sync
/// run at once.
public struct ServiceSchedule: Sendable, Hashable {
    /// Whether a reconcile of this service is running.
    public private(set) var running = false
    /// The trigger waiting for the running reconcile to end.
    public private(set) var pending: ReconcileTrigger?
    /// Whether a pending poll saw a new commit (it then runs at once even after a failure).
    public private(set) var pendingNewCommit = false
    /// Failures in a row.
    public private(set) var failures = 0
    /// Seconds (on the loop's clock) before which a retry is not due.
    public private(set) var retryAt: Double?

    public init() {}

    /// First retry delay.
    public static let baseDelay = 5.0
    /// Longest retry delay.
    public static let maxDelay = 300.0

    /// Asks for a run. Returns whether it starts now; otherwise it is pending (while running) or dropped (a poll
    /// that saw no new commit during a backoff).
    public mutating func request(_ trigger: ReconcileTrigger, newCommit: Bool = false, now: Double) -> Bool {
        if running {
            pending = Self.stronger(pending, trigger)
            pendingNewCommit = pendingNewCommit || newCommit
            return false
        }
        if let retryAt, now < retryAt, trigger == .poll || trigger == .retry, !newCommit { return false }
        running = true
        return true
    }

    /// Records the end of a run (`succeeded` nil when it was cancelled or skipped without a result) and returns
    /// the pending trigger to run next at once, if any. `jitter` is in -0.1...0.1. After a failure the next retry
    /// follows `policy`; past its limit no retry is scheduled (a new commit, a webhook or a manual sync still run).
    public mutating func finished(
        succeeded: Bool?, now: Double, jitter: Double = 0, policy: RetryPolicy = .standard
    ) -> ReconcileTrigger? {
        running = false
        switch succeeded {
        case true?:
            failures = 0
            retryAt = nil
        case false?:
            failures += 1
            retryAt =
                policy.allowsRetry(after: failures)
                ? now + policy.delay(failures: failures) * (1 + jitter) : Double.infinity
        case nil:
            break
        }
        defer {
            pending = nil
            pendingNewCommit = false
        }
        guard let next = pending else { return nil }
        // A pending poll or retry after a failure waits for the backoff like any other, unless it saw a new commit.
        if succeeded == false, next == .retry || (next == .poll && !pendingNewCommit) { return nil }
        running = true
        return next
    }

    /// Forgets a run that will not report its end (the loop was cancelled): nothing runs, nothing is pending.
    public mutating func abandonRun() {
        running = false
        pending = nil
        pendingNewCommit = false
    }

    /// Of two triggers, the one that asks for more: manual > config > drift > webhook > poll > retry.
    static func stronger(_ a: ReconcileTrigger?, _ b: ReconcileTrigger) -> ReconcileTrigger {
        guard let a else { return b }
        let order: [ReconcileTrigger] = [.retry, .poll, .webhook, .drift, .config, .manual]
        return (order.firstIndex(of: a) ?? 0) >= (order.firstIndex(of: b) ?? 0) ? a : b
    }
}
