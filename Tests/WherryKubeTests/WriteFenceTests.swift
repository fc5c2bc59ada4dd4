import Foundation
import Logging
import Testing
import WherryKube
import WherryModel
import WherryTesting

/// A fenced ``HTTPKubeAPI`` sends no write once its fence is closed: not before an attempt, not after a retry's
/// sleep, and not after a wait in the connection pool's queue.
@Suite("Writes fenced by the leader's lease")
struct WriteFenceTests {
    private static let path = "/api/v1/namespaces/default/configmaps"

    private static func configMap(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"]]
    }

    /// Runs `body` with a client of `server`, shut down afterwards whatever happens (held requests are released).
    private static func withClient(
        _ server: FakeAPIServer, _ options: KubeClientOptions, _ body: (HTTPKubeAPI) async throws -> Void
    ) async throws {
        var logger = Logger(label: "wherry.test")
        logger.logLevel = .critical
        let api = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), options: options, logger: logger)
        do {
            try await body(api)
        } catch {
            server.releaseDelays()
            await api.shutdown()
            throw error
        }
        server.releaseDelays()
        await api.shutdown()
    }

    /// Writes of `name` that reached the server.
    private static func writes(_ server: FakeAPIServer, _ name: String) -> Int {
        server.requests.filter { $0.isWrite && $0.path.hasSuffix("/\(name)") }.count
    }

    @Test("a closed fence refuses every write before it is sent; reads and dry runs still go")
    func closedFence() async throws {
        try await FakeAPIServer.withServer { server in
            try await Self.withClient(server, KubeClientOptions()) { api in
                let fence = WriteFence()
                fence.open(until: .now + .seconds(60))
                api.fenceWrites(with: fence)
                _ = try await api.apply(Self.path + "/a", object: Self.configMap("a"), options: ApplyOptions())
                #expect(Self.writes(server, "a") == 1)

                fence.close()
                let refusals: [KubeAPIError?] = [
                    await #expect(throws: KubeAPIError.self) {
                        try await api.apply(Self.path + "/b", object: Self.configMap("b"), options: ApplyOptions())
                    },
                    await #expect(throws: KubeAPIError.self) {
                        try await api.create(Self.path, object: Self.configMap("b"), fieldManager: "wherry")
                    },
                    await #expect(throws: KubeAPIError.self) {
                        try await api.update(Self.path + "/a", object: Self.configMap("a"), fieldManager: "wherry")
                    },
                    await #expect(throws: KubeAPIError.self) {
                        try await api.delete(Self.path + "/a", options: DeleteOptions())
                    },
                ]
                for refusal in refusals {
                    #expect(refusal?.isFenced == true)
                    // The work stops as for a cancellation: not a failure of an object, not retried.
                    #expect(refusal?.isCancelled == true)
                    #expect(refusal?.isTransient == false)
                }
                #expect(Self.writes(server, "a") == 1)
                #expect(Self.writes(server, "b") == 0)
                #expect(
                    !server.requests.contains { $0.method == "POST" || $0.method == "PUT" || $0.method == "DELETE" })
                // Reading and validating write nothing: they stay allowed.
                #expect(try await api.get(Self.path + "/a")["metadata"]?["name"] == "a")
                let dryRun = try await api.apply(
                    Self.path + "/b", object: Self.configMap("b"), options: ApplyOptions(dryRun: true))
                #expect(dryRun.created)
                try await api.delete(Self.path + "/a", options: DeleteOptions(dryRun: true))
                // Unfenced again, the client writes as before.
                api.fenceWrites(with: nil)
                _ = try await api.apply(Self.path + "/b", object: Self.configMap("b"), options: ApplyOptions())
                #expect(Self.writes(server, "b") == 1)
            }
        }
    }

    @Test("a write whose retry comes after the fence's deadline is not retried")
    func retryAfterDeadline() async throws {
        try await FakeAPIServer.withServer { server in
            try await Self.withClient(server, KubeClientOptions(retryBaseDelay: .milliseconds(5))) { api in
                let fence = WriteFence()
                fence.open(until: .now + .seconds(60))
                api.fenceWrites(with: fence)
                server.failNext(1, status: 503, retryAfter: 1) { $0.isWrite }
                let write = Task {
                    try await api.apply(Self.path + "/late", object: Self.configMap("late"), options: ApplyOptions())
                }
                // The lease is lost while the client sleeps out the Retry-After.
                while Self.writes(server, "late") == 0 { try await Task.sleep(for: .milliseconds(10)) }
                fence.close()
                let error = await #expect(throws: KubeAPIError.self) { try await write.value }
                #expect(error?.isFenced == true)
                // The first attempt went out (and was answered 503); the retry, a second later, did not.
                #expect(Self.writes(server, "late") == 1)
                #expect(server.object(resource: "configmaps", namespace: "default", name: "late") == nil)
            }
        }
    }

    @Test("a write that waited for a connection past the fence's deadline is cut off before its body is sent")
    func queuedPastDeadline() async throws {
        try await FakeAPIServer.withServer { server in
            // One connection: the write queues behind a slow read.
            try await Self.withClient(server, KubeClientOptions(maxConnections: 1)) { api in
                _ = try await api.get("/api")
                server.delayResponses(by: .seconds(2)) { $0.method == "GET" && $0.path == "/api/v1" }
                let fence = WriteFence()
                fence.open(until: .now + .seconds(60))
                api.fenceWrites(with: fence)
                async let slow = api.get("/api/v1")
                while server.requestsInFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // The fence is open when the write is handed to the connection pool, and closes while it waits there.
                let write = Task {
                    try await api.apply(
                        Self.path + "/queued", object: Self.configMap("queued"), options: ApplyOptions())
                }
                try await Task.sleep(for: .milliseconds(300))
                fence.close()
                let error = await #expect(throws: KubeAPIError.self) { try await write.value }
                #expect(error?.isFenced == true)
                _ = try await slow
                #expect(Self.writes(server, "queued") == 0)
                #expect(server.object(resource: "configmaps", namespace: "default", name: "queued") == nil)
            }
        }
    }

    @Test("a fence opens until an instant, is only extended by open, and refuses after close")
    func fenceInstants() async throws {
        let fence = WriteFence()
        #expect(!fence.isOpen)
        #expect(fence.deadline == nil)
        let later = ContinuousClock.now + .seconds(30)
        fence.open(until: later)
        fence.open(until: later - .seconds(10))
        #expect(fence.deadline == later)
        #expect(fence.isOpen)
        #expect(throws: Never.self) { try fence.check("PATCH /x") }
        fence.close()
        #expect(!fence.isOpen)
        let error = #expect(throws: KubeAPIError.self) { try fence.check("PATCH /x") }
        #expect(error?.request == "PATCH /x")
        fence.open(until: .now - .milliseconds(1))
        #expect(!fence.isOpen)
    }
}
