import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryTesting

/// A store whose database cannot be read.
private struct BrokenStatusStore: StatusStore {
    static let failure = StatusStoreError("state database /var/lib/wherry/wherry.sqlite is not a SQLite database")

    func record(_ attempt: ReconcileAttempt) async throws(StatusStoreError) { throw Self.failure }
    func status(of service: String) async throws(StatusStoreError) -> ServiceStatus? { throw Self.failure }
    func statuses() async throws(StatusStoreError) -> [ServiceStatus] { throw Self.failure }
    func history(of service: String) async throws(StatusStoreError) -> [HistoryEntry] { throw Self.failure }
    func inventory(of service: String) async throws(StatusStoreError) -> Inventory? { throw Self.failure }
    func saveInventory(_ inventory: Inventory, of service: String) async throws(StatusStoreError) {
        throw Self.failure
    }
    func inventoryServices() async throws(StatusStoreError) -> [String] { throw Self.failure }
    func forget(service: String) async throws(StatusStoreError) { throw Self.failure }
    func retainOnly(_ services: Set<String>) async throws(StatusStoreError) -> [String] { throw Self.failure }
    func suspensions() async throws(StatusStoreError) -> [String: Date] { throw Self.failure }
    func setSuspended(_ service: String, since date: Date?) async throws(StatusStoreError) { throw Self.failure }
}

extension StatusAPITests {
    /// Waits up to `seconds` for `condition`.
    private static func eventually(_ seconds: Int = 30, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    @Test("the bearer scheme is case-insensitive; only the exact token passes, not a prefix or a longer one")
    func bearerScheme() async throws {
        try await withAPI { client, _ in
            let path = "/v1/gitops/services/etcd/sync"
            for header in [
                "bearer s3cret-token", "BEARER s3cret-token", "Bearer   s3cret-token", "bEaReR\ts3cret-token",
            ] {
                try await client.execute(uri: path, method: .post, headers: [.authorization: header]) { response in
                    #expect(response.status == .accepted, "\(header)")
                }
            }
            for header in [
                "Bearer s3cret", "Bearer s3cret-token2", "Bearer", "Bearer ", "Basic s3cret-token", "s3cret-token",
                "Bearers3cret-token",
            ] {
                try await client.execute(uri: path, method: .post, headers: [.authorization: header]) { response in
                    let body = try Self.json(response)
                    #expect(response.status == .unauthorized, "\(header)")
                    #expect(body["error"]?["message"] != nil)
                }
            }
        }
    }

    @Test("a store that cannot be read, and errors Hummingbird raises itself, answer as JSON errors")
    func thrownErrorsAreJSON() async throws {
        try await withAPI(store: BrokenStatusStore()) { client, _ in
            for path in [
                "/v1/gitops/repos", "/v1/gitops/services", "/v1/gitops/services/etcd",
                "/v1/gitops/services/etcd/history",
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .internalServerError, "\(path)")
                    #expect(response.headers[.contentType] == "application/json", "\(path)")
                    let message = try Self.json(response)["error"]?["message"]?.stringValue
                    #expect(message == BrokenStatusStore.failure.message, "\(path)")
                }
            }
            // No route takes OPTIONS: Hummingbird's own 404, which has no body of its own.
            try await client.execute(uri: "/healthz", method: .options) { response in
                let body = try Self.json(response)
                #expect(response.status == .notFound)
                #expect(body["error"]?["message"] == "no route OPTIONS /healthz")
            }
            let huge = String(repeating: "x", count: (1 << 20) + 1)
            try await client.execute(
                uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed(huge),
                body: ByteBuffer(string: huge)
            ) { response in
                let body = try Self.json(response)
                #expect(response.status == .contentTooLarge)
                #expect(body["error"]?["message"] != nil)
            }
        }
    }

    @Test("a follower answers pushes and manual syncs with 503 naming the leader, and queues nothing")
    func follower() async throws {
        try await FakeAPIServer.withServer { server in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let kube = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), logger: quiet)
            _ = try await kube.create(
                "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                object: [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": "wherry-leader", "namespace": "default"],
                    "spec": ["holderIdentity": "wherry-0", "leaseDurationSeconds": 3600],
                ], fieldManager: "test")
            // The holder never renews; a lease this long keeps it the leader for the whole test.
            let elector = LeaderElector(
                api: kube, namespace: "default", identity: "wherry-1",
                timings: LeaseTimings(leaseDuration: .seconds(3600), retryPeriod: .milliseconds(200)), logger: quiet)
            let election = Task { try await elector.run {} }
            defer { election.cancel() }
            #expect(try await Self.eventually { elector.leader == "wherry-0" })
            #expect(!elector.isLeader)
            try await withAPI(elector: elector) { client, loop in
                let body = Self.push(cloneURL: "https://github.com/AI-Infra-Team/nokube")
                try await client.execute(
                    uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed(body),
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .serviceUnavailable)
                    let message = try Self.json(response)["error"]?["message"]?.stringValue ?? ""
                    #expect(message.contains("not the leader") && message.contains("wherry-0"))
                }
                try await client.execute(
                    uri: "/v1/gitops/services/etcd/sync", method: .post,
                    headers: [.authorization: "Bearer s3cret-token"]
                ) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(String(buffer: response.body).contains("wherry-0"))
                }
                #expect(loop.schedules["etcd"]?.running != true)
                // Answered by any replica: nothing is queued.
                try await client.execute(
                    uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed("{}", event: "ping"),
                    body: ByteBuffer(string: "{}")
                ) { #expect($0.status == .ok) }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    let body = try Self.json(response)
                    #expect(response.status == .ok)
                    #expect(body["leader"] == "wherry-0")
                }
            }
            election.cancel()
            _ = await election.result
            await kube.shutdown()
        }
    }

    @Test("readyz turns ready after the first poll when a configured repository is used by no service")
    func readyWithUnusedRepository() async throws {
        let remote = try await GitRemoteFixture()
        defer { remote.remove() }
        try await remote.commit(["app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"])
        let config = """
            github_configs:
              used: {url: "\(remote.fileURL)"}
              unused: {url: "https://git.invalid/never/polled.git"}
            services:
              - {name: app, github: used, k8s_yaml_dir: app}
            poll_interval: 3600
            """
        try await withAPI(configText: config, store: InMemoryStatusStore()) { client, loop in
            let running = Task { try await loop.run() }
            defer { running.cancel() }
            #expect(try await Self.eventually { loop.heads["used"] != nil })
            try await client.execute(uri: "/readyz", method: .get) { response in
                let body = try Self.json(response)
                #expect(response.status == .ok, "\(body)")
                #expect(body["status"] == "ready")
            }
            running.cancel()
            _ = await running.result
        }
    }
}
