import Testing
import WherryKube

@Suite("Client-side rate limiting")
struct RateLimiterTests {
    @Test("a burst passes at once, then requests are spaced by the rate")
    func bucket() async throws {
        let limiter = RateLimiter(qps: 50, burst: 5)
        let clock = ContinuousClock()
        let burst = try await clock.measure { for _ in 0..<5 { try await limiter.acquire() } }
        let paced = try await clock.measure { for _ in 0..<10 { try await limiter.acquire() } }
        // Ten tokens at 50/s take at least ~200 ms whatever the machine; the burst waits for none of them.
        #expect(paced >= .milliseconds(180))
        #expect(burst < paced / 2)
    }

    @Test("a rate of zero does not limit")
    func unlimited() async throws {
        let limiter = RateLimiter(qps: 0, burst: 1)
        let elapsed = try await ContinuousClock().measure { for _ in 0..<100 { try await limiter.acquire() } }
        #expect(elapsed < .seconds(1))
    }
}
