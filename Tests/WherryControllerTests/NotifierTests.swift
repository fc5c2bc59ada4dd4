import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryModel
import WherryTesting

@Suite("Deploy notifications")
struct NotifierTests {
    private static let success = DeployNotification(
        service: "shop", repository: "org/site", revision: "0123456789abcdef", succeeded: true,
        changes: [.created: 2, .unchanged: 5], time: Date(timeIntervalSince1970: 1_756_727_102.5))

    @Test("the seed's fields, plus revision, repo and changes")
    func seedShape() throws {
        let body = Notifier.payload(Self.success, slack: false)
        #expect(body["event"] == "manifest_applied")
        #expect(body["service_name"] == "shop")
        #expect(body["status"] == "success")
        #expect(body["timestamp"] == .double(1_756_727_102.5))
        #expect(body["revision"] == "0123456789abcdef")
        #expect(body["repo"] == "org/site")
        #expect(body["changes"] == ["created": 2, "unchanged": 5])
        #expect(body["error"] == nil)
        var failure = Self.success
        failure.succeeded = false
        failure.error = "Deployment/shop/web: invalid"
        #expect(Notifier.payload(failure, slack: false)["status"] == "failed")
        #expect(Notifier.payload(failure, slack: false)["error"] == "Deployment/shop/web: invalid")
    }

    @Test("Slack incoming webhooks get text and blocks")
    func slackShape() {
        let body = Notifier.payload(Self.success, slack: true)
        let text = body["text"]?.stringValue ?? ""
        #expect(text.contains("*shop* deployed `0123456789ab` from org/site: 2 created, 5 unchanged"))
        #expect(body["blocks"]?.arrayValue?.first?["text"]?["text"] == body["text"])
        #expect(body["service_name"] == nil)
    }

    @Test("a failing endpoint is retried with backoff until it answers; the URL's secret is never logged")
    func retries() async throws {
        try await RecordingHTTPServer.withServer { receiver, baseURL in
            receiver.answerNext([500, 503])
            let logs = CapturedLogs()
            let url = baseURL + "/hooks/T000/B000/secret-part"
            let bus = EventBus(epoch: "n")
            let watcher = bus.subscribe()
            let notifier = try #require(
                Notifier(url: url, attempts: 4, retryBase: .milliseconds(10), logger: logs.logger(), events: bus.sink))
            let group = ServiceGroup(services: [notifier], gracefulShutdownSignals: [], logger: logs.logger())
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                notifier.notify(Self.success)
                for _ in 0..<100 where receiver.requests.count < 3 { try await Task.sleep(for: .milliseconds(20)) }
                #expect(receiver.requests.count == 3)
                // An endpoint that never accepts is given up on, and said once.
                receiver.answerNext(Array(repeating: 500, count: 8))
                notifier.notify(Self.success)
                notifier.notify(Self.success)
                for _ in 0..<200 where receiver.requests.count < 11 { try await Task.sleep(for: .milliseconds(20)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let first = try #require(receiver.requests.first)
            #expect(first.method == "POST")
            #expect(first.contentType == "application/json")
            #expect(try JSONValue.parse(first.body)["service_name"] == "shop")
            #expect(logs.all.filter { $0.contains("Cannot deliver") }.count == 1)
            #expect(!logs.all.joined().contains("secret-part"))
            // Each notification given up on is an event on the stream (the first one got through on its third try).
            watcher.cancel()
            var failed: [String] = []
            for await frame in watcher.frames {
                if case .event(let event) = frame, event.kind == .notificationFailed {
                    failed.append(event.data.jsonString())
                }
            }
            #expect(failed.count == 2, "\(failed)")
            #expect(failed.allSatisfy { $0.contains("\"service\":\"shop\"") && !$0.contains("secret-part") })
        }
    }
}
