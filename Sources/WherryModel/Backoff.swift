/// Exponential backoff, the one policy every retry in Wherry follows (failed reconciles, Kubernetes requests,
/// notifications): `initial`, times `factor` per attempt, at most `maximum`.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public var initial: Duration
    /// Each further delay is the previous one times this.
    public var factor: Double
    /// The longest delay.
    public var maximum: Duration

    public init(initial: Duration, factor: Double = 2, maximum: Duration) {
        self.initial = initial
        self.factor = factor
        self.maximum = maximum
    }

    /// The delay before attempt number `attempt` after the first (1 for the first retry), without jitter.
    public func delay(attempt: Int) -> Duration {
        let exponent = Double(min(max(attempt - 1, 0), 64))
        let seconds = min(maximum.inSeconds, initial.inSeconds * power(factor, exponent))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// ``delay(attempt:)`` spread by `jitter` (a fraction: 0.1 is ±10%), so that many retrying clients do not
    /// retry in step.
    public func delay(attempt: Int, jitter: Double) -> Duration {
        delay(attempt: attempt) * (1 + Double.random(in: -jitter...jitter))
    }

    private func power(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) {
            result *= base
            if result > 1e12 { break }
        }
        return result
    }
}
