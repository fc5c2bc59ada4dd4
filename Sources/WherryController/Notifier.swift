import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
public import ServiceLifecycle
public import WherryModel

/// What a deploy notification says.
public struct DeployNotification: Sendable, Hashable {
    public var service: String
    /// The repository, as `owner/name` or its config key.
    public var repository: String
    public var revision: String
    public var succeeded: Bool
    public var error: String?
    public var changes: [ApplyAction: Int]
    public var time: Date

    public init(
        service: String, repository: String, revision: String, succeeded: Bool, error: String? = nil,
        changes: [ApplyAction: Int] = [:], time: Date = Date()
    ) {
        self.service = service
        self.repository = repository
        self.revision = revision
        self.succeeded = succeeded
        self.error = error
        self.changes = changes
        self.time = time
    }
}

/// Sends deploy notifications to `webhook_url`: the seed's JSON (`event`, `service_name`, `status`, `timestamp`,
/// `error`, plus `revision`, `repo` and `changes`), or Slack's `text`/`blocks` when the URL is a Slack incoming
/// webhook. Sending never blocks reconciling: notifications wait in a bounded queue (the oldest are dropped when
/// it is full), each is retried with backoff and a timeout, and a failing endpoint is logged once per failure
/// streak. The URL is a credential: it is never logged.
///
/// At graceful shutdown it stops taking new notifications and delivers those queued, then returns; so in a
/// `ServiceGroup` (which shuts services down in reverse order) it comes before the services that notify, and stops
/// after them. Cancellation stops it at once.
public final class Notifier: Service, Sendable {
    private let url: String
    private let client: HTTPClient
    private let queue: AsyncStream<DeployNotification>
    private let input: AsyncStream<DeployNotification>.Continuation
    private let attempts: Int
    private let retryBase: Duration
    private let logger: Logger
    /// Where a notification that could not be delivered is reported (the event stream).
    private let events: ControllerEventSink

    /// A notifier for `url`; `nil` when no URL is configured.
    public init?(
        url: String?, queueLimit: Int = 100, attempts: Int = 4, retryBase: Duration = .seconds(1),
        logger: Logger = Logger(label: "wherry.notify"), events: @escaping ControllerEventSink = { _ in }
    ) {
        guard let url, !url.isEmpty else { return nil }
        self.events = events
        self.url = url
        self.attempts = max(1, attempts)
        self.retryBase = retryBase
        self.logger = logger
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        (queue, input) = AsyncStream.makeStream(
            of: DeployNotification.self, bufferingPolicy: .bufferingNewest(queueLimit))
    }

    /// Queues a notification; returns at once.
    public func notify(_ notification: DeployNotification) {
        input.yield(notification)
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            var failing = false
            for await notification in self.queue {
                let problem = await self.deliver(notification)
                if let problem { self.events(.notificationFailed(service: notification.service, error: problem)) }
                if let problem, !failing {
                    self.logger.warning(
                        "Cannot deliver deploy notifications to webhook_url",
                        metadata: ["wherry.service": "\(notification.service)", "wherry.error": "\(problem)"])
                }
                if problem == nil, failing { self.logger.notice("Deploy notifications are delivered again") }
                failing = problem != nil
            }
        } onGracefulShutdown: {
            // The stream then ends after what it holds, so queued notifications are still delivered.
            self.input.finish()
        }
        input.finish()
        try? await client.shutdown()
    }

    /// Sends one notification with retries; the last problem (never the URL) when it could not be delivered.
    func deliver(_ notification: DeployNotification) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "wherry")
        let body = Self.payload(notification, slack: Self.isSlack(url)).jsonString()
        var problem = "not sent"
        for attempt in 0..<attempts {
            if attempt > 0 {
                do {
                    try await Task.sleep(
                        for: Backoff(initial: retryBase, maximum: retryBase * 64).delay(attempt: attempt))
                } catch {
                    return "cancelled"
                }
            }
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 64 << 10)
                if (200..<300).contains(response.status.code) { return nil }
                problem = "HTTP \(response.status.code)"
                // A 4xx other than throttling will not change on a retry.
                if (400..<500).contains(response.status.code), response.status.code != 429 { return problem }
            } catch {
                problem = "no answer (\(type(of: error)))"
            }
        }
        return problem
    }

    /// Whether the URL is a Slack incoming webhook.
    static func isSlack(_ url: String) -> Bool {
        url.lowercased().hasPrefix("https://hooks.slack.com/")
    }

    /// The JSON body: the seed's fields, or Slack's message format.
    public static func payload(_ notification: DeployNotification, slack: Bool) -> JSONValue {
        if slack {
            let summary = ApplyAction.summary(notification.changes)
            let text =
                notification.succeeded
                ? "✅ *\(notification.service)* deployed `\(notification.revision.prefix(12))` from \(notification.repository): \(summary)"
                : "❌ *\(notification.service)* failed at `\(notification.revision.prefix(12))` from \(notification.repository): \(notification.error ?? "unknown error")"
            return [
                "text": .string(text),
                "blocks": [["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]]],
            ]
        }
        var object: JSONObject = [
            "event": "manifest_applied", "service_name": .string(notification.service),
            "status": notification.succeeded ? "success" : "failed",
            "timestamp": .double(notification.time.timeIntervalSince1970),
            "revision": .string(notification.revision), "repo": .string(notification.repository),
            "changes": ApplyAction.json(notification.changes),
        ]
        if let error = notification.error { object["error"] = .string(error) }
        return .object(object)
    }
}
