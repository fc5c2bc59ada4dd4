import WherryModel

/// A token bucket: at most `burst` requests at once, refilled at `qps` per second.
///
/// Callers reserve a token and sleep until it is due, so waiting callers are served in arrival order.
public actor RateLimiter {
    /// Requests per second over time.
    public let qps: Double
    /// Requests allowed at once after a quiet spell.
    public let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// A limiter; a `qps` of zero or less disables limiting.
    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = max(1, burst)
        tokens = Double(max(1, burst))
        last = .now
    }

    /// Waits until the caller may send one request; throws `CancellationError` when the task is cancelled meanwhile.
    public func acquire() async throws {
        guard qps > 0 else { return }
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        let seconds = elapsed.inSeconds
        tokens = min(Double(burst), tokens + seconds * qps)
        tokens -= 1
        guard tokens < 0 else { return }
        // The reservation is made; sleep off the debt outside the actor's critical section.
        let wait = -tokens / qps
        try await Task.sleep(for: .milliseconds(Int((wait * 1000).rounded(.up))))
    }
}
