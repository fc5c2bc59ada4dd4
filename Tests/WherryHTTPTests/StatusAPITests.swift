import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import WherryController
import WherryGit
import WherryHTTP
import WherryKube
import WherryModel
import WherryTesting

@Suite("The controller's HTTP API")
struct StatusAPITests {
    /// What `/metrics` shows in these tests.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "wherry", metricName: "reconcile", unitName: "total", helpText: "Reconciles."),
            labels: [("service", "etcd"), ("result", "succeeded")]
        ).increment()
        return registry
    }()

    /// Two repositories, three services.
    static let config = """
        github_configs:
          nokube: {repo_owner: AI-Infra-Team, repo_name: nokube, url: "https://bot:ghp_hidden@github.com/AI-Infra-Team/nokube"}
          site: {url: "git@github.com:org/site.git", branch: prod}
        services:
          - {name: etcd, github: nokube, k8s_yaml_dir: etcd}
          - {name: monitoring, github: nokube, k8s_yaml_dir: monitoring}
          - {name: web, github: site, k8s_yaml_dir: deploy, suspend: true}
        """

    /// The API over `configText` (by default ``config``, whose store knows some history); `store` replaces the
    /// store. The loop is built but not running.
    func withAPI(
        token: String? = "s3cret-token", webhookSecret: String? = "hook-secret", configText: String = Self.config,
        store replacement: (any StatusStore)? = nil, elector: LeaderElector? = nil,
        _ body: @Sendable (any TestClientProtocol, ReconcileLoop) async throws -> Void
    ) async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        let config = try ConfigLoader.parse(configText, file: "gitops-config.yaml", baseDirectory: "/").config
        let store: any StatusStore
        if let replacement { store = replacement } else { store = try await Self.storeWithHistory() }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let api = try HTTPKubeAPI(connection: KubeConnection(server: "http://127.0.0.1:1"), logger: quiet)
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
            manager: ResourceManager(api: api, logger: quiet), logger: quiet)
        let loop = ReconcileLoop(
            config: config, reconciler: Reconciler(syncer: syncer, store: store, logger: quiet), logger: quiet)
        let app = Application(
            router: StatusAPI(
                config: config, store: store, loop: loop, apiToken: token, webhookSecret: webhookSecret,
                metrics: Self.registry, elector: elector
            )
            .router())
        do {
            try await app.test(.router) { client in try await body(client, loop) }
        } catch {
            await api.shutdown()
            throw error
        }
        await api.shutdown()
    }

    /// The services of ``config`` with some history.
    private static func storeWithHistory() async throws -> InMemoryStatusStore {
        let store = InMemoryStatusStore()
        func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_756_727_000 + seconds) }
        try await store.record(
            ReconcileAttempt(
                service: "etcd", revision: "a1b2c3", treeHash: "t1", result: .succeeded, counts: [.created: 3],
                startedAt: at(0), durationSeconds: 1.5))
        try await store.record(
            ReconcileAttempt(
                service: "monitoring", revision: "a1b2c3", treeHash: "t2", result: .succeeded, startedAt: at(2),
                durationSeconds: 1))
        try await store.record(
            ReconcileAttempt(
                service: "monitoring", revision: "d4e5f6", treeHash: "t3", result: .failed,
                error: "Deployment/mon/prom: invalid", startedAt: at(60), durationSeconds: 0.2))
        return store
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(String(buffer: response.body))
    }

    @Test("/v1/gitops/repos has exactly the seed's fields and types, with the last successful apply")
    func repos() async throws {
        try await withAPI { client, _ in
            try await client.execute(uri: "/v1/gitops/repos", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = try Self.json(response)
                #expect(Set(body.objectValue?.keys ?? []) == ["count", "repos", "timestamp"])
                #expect(body["count"] == 2)
                let timestamp = try #require(body["timestamp"]?.stringValue)
                #expect(timestamp.hasSuffix("Z") && timestamp.count == 20)
                let nokube = try #require(body["repos"]?.arrayValue?[0])
                #expect(
                    Set(nokube.objectValue?.keys ?? []) == [
                        "repo", "url", "branch", "last_deploy_time", "last_commit_id", "services", "service_count",
                    ])
                #expect(nokube["repo"] == "AI-Infra-Team/nokube")
                #expect(nokube["url"] == "https://github.com/AI-Infra-Team/nokube")
                #expect(nokube["branch"] == "main")
                // The failed attempt at d4e5f6 is not a deploy: the last successful apply is.
                #expect(nokube["last_commit_id"] == "a1b2c3")
                #expect(nokube["last_deploy_time"] == "2025-09-01T11:43:22Z")
                #expect(nokube["services"] == ["etcd", "monitoring"])
                #expect(nokube["service_count"] == 2)
                let site = try #require(body["repos"]?.arrayValue?[1])
                #expect(site["last_deploy_time"] == .null)
                #expect(site["last_commit_id"] == .null)
                #expect(site["branch"] == "prod")
                #expect(!String(buffer: response.body).contains("ghp_hidden"))
            }
        }
    }

    @Test("services, one service, its history, and unknown names as JSON errors")
    func services() async throws {
        try await withAPI { client, _ in
            try await client.execute(uri: "/v1/gitops/services", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] == 3)
                #expect(body["services"]?.arrayValue?[2]["state"] == "suspended")
                #expect(body["services"]?.arrayValue?[0]["drift_corrections"] == 0)
                #expect(body["orphaned"] == [])
            }
            try await client.execute(uri: "/v1/gitops/services/monitoring", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["state"] == "failed")
                #expect(body["last_applied_revision"] == "a1b2c3")
                #expect(body["last_error"] == "Deployment/mon/prom: invalid")
            }
            try await client.execute(uri: "/v1/gitops/services/monitoring/history", method: .get) { response in
                let history = try #require(try Self.json(response)["history"]?.arrayValue)
                #expect(history.map { $0["result"] } == ["failed", "succeeded"])
                #expect(history.first?["count"] == 1)
            }
            try await client.execute(uri: "/v1/gitops/services/nope", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try Self.json(response)
                #expect(body["error"]?["message"] == "no service named 'nope' in gitops-config.yaml")
            }
            try await client.execute(uri: "/v2/unknown", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try Self.json(response)
                #expect(body["error"]?["message"] != nil)
            }
        }
    }

    @Test("manual sync needs the bearer token; with none configured it is off, never open")
    func manualSync() async throws {
        try await withAPI { client, loop in
            let path = "/v1/gitops/services/etcd/sync"
            try await client.execute(uri: path, method: .post) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: path, method: .post, headers: [.authorization: "Bearer wrong"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: path, method: .post, headers: [.authorization: "Bearer s3cret-token"]) {
                response in
                #expect(response.status == .accepted)
                let body = try Self.json(response)
                #expect(body["status"] == "queued")
            }
            #expect(loop.schedules["etcd"]?.running == true)
            try await client.execute(
                uri: "/v1/gitops/services/nope/sync", method: .post, headers: [.authorization: "Bearer s3cret-token"]
            ) { #expect($0.status == .notFound) }
        }
        try await withAPI(token: nil) { client, _ in
            try await client.execute(
                uri: "/v1/gitops/services/etcd/sync", method: .post, headers: [.authorization: "Bearer anything"]
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("api_token_env"))
            }
        }
    }

    @Test("healthz answers at once; readyz only after the first poll of every repository")
    func health() async throws {
        try await withAPI { client, _ in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
    }

    static func signed(_ body: String, secret: String = "hook-secret", event: String = "push") -> HTTPFields {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return [
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=\(hex)", HTTPField.Name("X-GitHub-Event")!: event,
            .contentType: "application/json",
        ]
    }

    static func push(ref: String = "refs/heads/main", cloneURL: String, fullName: String = "") -> String {
        #"{"ref":"\#(ref)","after":"abc","repository":{"full_name":"\#(fullName)","clone_url":"\#(cloneURL)"}}"#
    }

    @Test("a signed push starts the services of that repository and branch, whatever form its URL takes")
    func webhookPush() async throws {
        try await withAPI { client, loop in
            let body = Self.push(cloneURL: "https://github.com/ai-infra-team/nokube.git")
            try await client.execute(
                uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed(body),
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .accepted)
                let answer = try Self.json(response)
                #expect(answer["services"] == ["etcd", "monitoring"])
            }
            #expect(loop.schedules["etcd"]?.running == true)
            // An scp-like URL for the other repository, on its branch; its only service is suspended.
            let site = Self.push(ref: "refs/heads/prod", cloneURL: "git@github.com:org/site")
            try await client.execute(
                uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed(site),
                body: ByteBuffer(string: site)
            ) { response in
                let answer = try Self.json(response)
                #expect(answer["status"] == "ignored")
            }
            // Another branch of a followed repository starts nothing.
            let other = Self.push(ref: "refs/heads/dev", cloneURL: "https://github.com/AI-Infra-Team/nokube")
            try await client.execute(
                uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed(other),
                body: ByteBuffer(string: other)
            ) { response in
                let answer = try Self.json(response)
                #expect(answer["services"] == [])
            }
        }
    }

    @Test(
        "webhook deliveries: bad or missing signature 401, ping 200, other events 202, 1 MiB limit, off without a secret"
    )
    func webhookCases() async throws {
        try await withAPI { client, _ in
            let body = Self.push(cloneURL: "https://github.com/AI-Infra-Team/nokube")
            let path = "/v1/gitops/webhook/github"
            try await client.execute(
                uri: path, method: .post, headers: Self.signed(body, secret: "wrong"), body: ByteBuffer(string: body)
            ) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) {
                #expect($0.status == .unauthorized)
            }
            // A signature of another body does not carry over.
            try await client.execute(
                uri: path, method: .post, headers: Self.signed(body), body: ByteBuffer(string: body + " ")
            ) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: path, method: .post, headers: Self.signed("{}", event: "ping"), body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: path, method: .post, headers: Self.signed("{}", event: "issues"), body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .accepted) }
            try await client.execute(
                uri: path, method: .post, headers: Self.signed("not json"), body: ByteBuffer(string: "not json")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("needs a JSON body with 'ref' and 'repository'"))
            }
            let huge = String(repeating: "x", count: (1 << 20) + 1)
            try await client.execute(
                uri: path, method: .post, headers: Self.signed(huge), body: ByteBuffer(string: huge)
            ) { #expect($0.status == .contentTooLarge) }
        }
        try await withAPI(webhookSecret: nil) { client, _ in
            try await client.execute(
                uri: "/v1/gitops/webhook/github", method: .post, headers: Self.signed("{}"),
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .forbidden) }
        }
    }

    @Test("/metrics is Prometheus text")
    func metrics() async throws {
        try await withAPI { client, _ in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(
                    String(buffer: response.body).contains(
                        #"wherry_reconcile_total{service="etcd",result="succeeded"} 1"#))
            }
        }
    }
}
