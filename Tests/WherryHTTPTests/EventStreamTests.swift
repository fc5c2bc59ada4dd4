import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WherryController
import WherryHTTP

@Suite("GET /v1/gitops/events: Server-Sent Events with ids, resume and heartbeats")
struct EventStreamTests {
    /// Reads an event stream until `done` says the text so far is enough.
    static func read(
        port: Int, lastEventID: String? = nil, after connected: @Sendable () -> Void = {},
        until done: @Sendable (String) -> Bool
    ) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/gitops/events")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "Content-Type") == "text/event-stream; charset=utf-8")
        var text = ""
        var told = false
        for try await buffer in response.body {
            text += String(buffer: buffer)
            if !told, text.contains("retry: 2000") {
                told = true
                connected()
            }
            if done(text) { break }
        }
        return text
    }

    static let config =
        "github_configs:\n  r: {url: \"file:///x\"}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k}\n"

    @Test("events arrive in order with ids and types; a heartbeat comment keeps the idle stream open")
    func orderAndHeartbeat() async throws {
        try await DashboardHarness.with(configText: Self.config) { harness in
            let bus = harness.bus
            try await harness.application(heartbeat: .milliseconds(50)).test(.live) { client in
                let port = try #require(client.port)
                let text = try await Self.read(
                    port: port,
                    after: {
                        bus.publish(.reconcileStarted(service: "shop", trigger: .manual))
                        bus.publish(.notificationFailed(service: "shop", error: "HTTP 502"))
                    }
                ) { $0.contains("event: notification_failed") && $0.contains(": heartbeat") }
                let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
                #expect(ids == ["t-1", "t-2", "t-3"])
                #expect(text.contains("id: t-1\nevent: reconcile_started\ndata: {"))
                #expect(text.contains("id: t-2\nevent: state_changed\ndata: {"))
                #expect(text.contains("\"state\":\"reconciling\""))
                #expect(text.contains("id: t-3\nevent: notification_failed\ndata: {"))
                #expect(text.contains("\"trigger\":\"manual\""))
            }
        }
    }

    @Test("Last-Event-ID resumes after that event; an id from before a restart gets a reset")
    func resume() async throws {
        try await DashboardHarness.with(configText: Self.config) { harness in
            let bus = harness.bus
            bus.publish(.reconcileStarted(service: "shop", trigger: .poll))
            bus.publish(.notificationFailed(service: "shop", error: "x"))
            // Heartbeats every 50 ms: a write to a client that left is how the server notices it.
            try await harness.application(heartbeat: .milliseconds(50)).test(.live) { client in
                let port = try #require(client.port)
                let resumed = try await Self.read(port: port, lastEventID: "t-1") { $0.contains("id: t-3") }
                #expect(!resumed.contains("id: t-1\n"))
                #expect(resumed.contains("id: t-2\nevent: state_changed"))
                let restarted = try await Self.read(port: port, lastEventID: "old-40") { $0.contains("event: reset") }
                #expect(restarted.contains("event: reset\ndata: {\"type\":\"reset\"}"))
            }
            // Both clients left: the bus no longer holds them.
            for _ in 0..<100 where bus.watcherCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(bus.watcherCount == 0)
        }
    }
}
