import Testing
import WherryKube

@Suite("Client-side rate limiting")
struct RateLimiterTests {
    @Test("a burst passes at once, then requests are spaced by the rate")
    func bucket() async {
        let limiter = RateLimiter(qps: 50, burst: 5)
        let clock = ContinuousClock()
        let burst = await clock.measure { for _ in 0..<5 { await limiter.acquire() } }
        let paced = await clock.measure { for _ in 0..<5 { await limiter.acquire() } }
        // Five tokens at 50/s need ~100 ms; a loose lower bound keeps this about behaviour, not speed.
        #expect(burst < .milliseconds(50))
        #expect(paced >= .milliseconds(80))
    }

    @Test("a rate of zero does not limit")
    func unlimited() async {
        let limiter = RateLimiter(qps: 0, burst: 1)
        let elapsed = await ContinuousClock().measure { for _ in 0..<100 { await limiter.acquire() } }
        #expect(elapsed < .seconds(1))
    }
}
