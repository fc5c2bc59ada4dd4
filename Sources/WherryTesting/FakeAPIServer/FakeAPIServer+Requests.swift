public import Foundation
public import WherryModel

/// What tests see of the traffic, and how they slow it down or make it fail.
extension FakeAPIServer {
    /// One request the server received, recorded before it was answered.
    public struct RecordedRequest: Sendable {
        /// `GET`, `PATCH`, `DELETE`, ...
        public var method: String
        /// The path as sent, e.g. `/apis/apps/v1/namespaces/a/deployments/web`.
        public var path: String
        /// Query items, decoded; a repeated name keeps its last value.
        public var query: [String: String]
        /// The `Content-Type` header, if any.
        public var contentType: String?
        /// The request body.
        public var body: [UInt8]
        /// When the request arrived.
        public var timestamp: Date
        /// The headers, by lowercased name (a repeated one keeps its last value): `authorization`, `user-agent`, ...
        public var headers: [String: String] = [:]

        /// The body parsed as JSON, when it is JSON.
        public var json: JSONValue? { body.isEmpty ? nil : try? JSONValue.parse(body) }

        /// Whether the request changes the cluster: a `POST`, `PUT`, `PATCH` or `DELETE` that is not a dry run.
        public var isWrite: Bool { ["POST", "PUT", "PATCH", "DELETE"].contains(method) && query["dryRun"] == nil }
    }

    /// Every request so far, in arrival order.
    public var requests: [RecordedRequest] { log.withLock { $0.requests } }

    /// Forgets the recorded requests (and the in-flight high-water mark).
    public func resetRequests() {
        log.withLock { log in
            log.requests = []
            log.maxInFlight = log.inFlight
        }
    }

    /// The most requests that were in flight at once.
    public var maxConcurrentRequests: Int { log.withLock { $0.maxInFlight } }

    /// How long every request waits before it is answered, so concurrency can be observed. Default zero.
    public var responseDelay: Duration {
        get { log.withLock { $0.responseDelay } }
        set { log.withLock { $0.responseDelay = newValue } }
    }

    /// Holds the next `count` requests that match `when` for `duration` before answering them (a stalled renewal, a
    /// slow write), on top of ``responseDelay``. ``releaseDelays()`` lets the held ones go on at once. The request is
    /// recorded (and counted in flight) when it arrives, before the hold.
    public func delayResponses(
        by duration: Duration, count: Int = .max, when matches: @escaping @Sendable (RecordedRequest) -> Bool
    ) {
        log.withLock { log in
            log.nextRuleID += 1
            log.delayRules.append(DelayRule(id: log.nextRuleID, remaining: count, duration: duration, matches: matches))
        }
    }

    /// Removes every rule of ``delayResponses(by:count:when:)``; requests held by one are answered at once.
    public func releaseDelays() {
        log.withLock { $0.delayRules = [] }
    }

    /// Requests being answered now (held ones included).
    public var requestsInFlight: Int { log.withLock { $0.inFlight } }

    /// A hold set with ``delayResponses(by:count:when:)``.
    struct DelayRule: Sendable {
        var id: Int
        /// Requests still to hold.
        var remaining: Int
        var duration: Duration
        var matches: @Sendable (RecordedRequest) -> Bool
    }

    /// Answers the next `count` requests that match `when` with `status` and a `Status` body (and a
    /// `Retry-After` header when `retryAfter` is given) instead of handling them; `message` replaces the default
    /// message. Rules are used in the order they were added.
    public func failNext(
        _ count: Int, status: Int, retryAfter: Int? = nil, message: String? = nil,
        when matches: @escaping @Sendable (RecordedRequest) -> Bool = { _ in true }
    ) {
        log.withLock { log in
            log.nextRuleID += 1
            log.rules.append(
                FailureRule(
                    id: log.nextRuleID, remaining: count, status: status, retryAfter: retryAfter, message: message,
                    matches: matches))
        }
    }

    /// A failure injected with ``failNext(_:status:retryAfter:when:)``.
    struct FailureRule: Sendable {
        var id: Int
        /// Requests still to fail.
        var remaining: Int
        var status: Int
        var retryAfter: Int?
        var message: String?
        /// Which requests the rule applies to.
        var matches: @Sendable (RecordedRequest) -> Bool

        /// The answer: a `Status` as the API server gives for that code.
        var error: APIStatusError {
            let reason = APIStatusError.reason(forCode: status)
            var error = APIStatusError(
                code: status, reason: reason,
                message: message
                    ?? (status == 429
                        ? "Too many requests, please try again later."
                        : "the fake API server was told to fail this request with HTTP \(status)"))
            if let retryAfter {
                error.headers["Retry-After"] = String(retryAfter)
                error.details["retryAfterSeconds"] = .int(Int64(retryAfter))
            }
            return error
        }
    }

    /// The request log, failure rules and in-flight counters, behind one lock.
    struct RequestLog: Sendable {
        var requests: [RecordedRequest] = []
        var rules: [FailureRule] = []
        /// Holds; a rule stays (and keeps its requests held) until it is released, even when used up.
        var delayRules: [DelayRule] = []
        var nextRuleID = 0
        /// Requests being answered now.
        var inFlight = 0
        /// The most requests answered at once.
        var maxInFlight = 0
        var responseDelay: Duration = .zero

        /// Records a request as in flight; returns the live failure and delay rules and the delay to apply.
        mutating func begin(
            _ request: RecordedRequest
        ) -> (rules: [FailureRule], delayRules: [DelayRule], delay: Duration) {
            requests.append(request)
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
            return (rules, delayRules.filter { $0.remaining > 0 }, responseDelay)
        }

        /// Uses up one request of the first delay rule (among `matching`) that has any left: its id and hold.
        mutating func consumeDelay(_ matching: [Int]) -> (id: Int, duration: Duration)? {
            guard let index = delayRules.firstIndex(where: { matching.contains($0.id) && $0.remaining > 0 }) else {
                return nil
            }
            delayRules[index].remaining -= 1
            return (delayRules[index].id, delayRules[index].duration)
        }

        /// Marks a request answered.
        mutating func end() { inFlight -= 1 }

        /// Uses up one request of the first rule (among `matching`) that has any left.
        mutating func consume(_ matching: [Int]) -> APIStatusError? {
            guard let index = rules.firstIndex(where: { matching.contains($0.id) && $0.remaining > 0 }) else {
                return nil
            }
            rules[index].remaining -= 1
            let error = rules[index].error
            if rules[index].remaining <= 0 { rules.remove(at: index) }
            return error
        }
    }
}
