import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryGit
public import WherryKube
import WherryModel
import WherryTesting

/// `wherry run`'s loop over whole services: backoff, readiness, health waits that give way to newer commits. Run
/// unchanged against `FakeAPIServer` and a real cluster (E2E); each scenario uses its own namespaces.
public struct LoopScenarios: Sendable {
    public let api: any KubeAPI
    public let namespace: String

    public init(api: any KubeAPI, namespace: String) {
        self.api = api
        self.namespace = namespace
    }

    /// Deletes the scenario's namespaces.
    public func cleanUp() async {
        for name in [namespace, namespace + "-wherry"] {
            try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
        }
    }

    /// A running loop on a fresh repository.
    struct Running: Sendable {
        let loop: ReconcileLoop
        let store: InMemoryStatusStore
        let remote: GitRemoteFixture
    }

    /// Runs a loop over `services` (YAML lines of the config) until `body` returns, then shuts it down gracefully.
    func withLoop(
        services: String, extraConfig: String = "", files: [String: String?],
        _ body: @Sendable (Running) async throws -> Void
    ) async throws {
        let quiet = ConvergenceScenarios.quiet
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            remote.remove()
            cache.remove()
        }
        try await remote.commit(files)
        let text = """
            github_configs:
              r: {url: \(remote.fileURL)}
            \(extraConfig)services:
            \(services)poll_interval: 1

            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let store = InMemoryStatusStore()
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path), logger: quiet),
            manager: ResourceManager(api: api, logger: quiet),
            inventories: InventoryKeeper(cluster: ClusterInventory(api: api, namespace: namespace + "-wherry")),
            logger: quiet)
        let loop = ReconcileLoop(
            config: config, reconciler: Reconciler(syncer: syncer, store: store, logger: quiet), logger: quiet)
        let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(Running(loop: loop, store: store, remote: remote))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    func service(_ name: String, _ extra: String = "") -> String {
        "  - {name: \(name), github: r, k8s_yaml_dir: \(name), namespace: \(namespace), create_namespace: true"
            + (extra.isEmpty ? "" : ", \(extra)") + "}\n"
    }

    func deployment(_ name: String, replicas: Int) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name)}
        spec:
          replicas: \(replicas)
          progressDeadlineSeconds: 600
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec: {containers: [{name: app, image: "registry.k8s.io/pause:3.9"}]}

        """
    }

    /// A service whose manifest cannot be rendered, polled every second, is attempted on the backoff's schedule
    /// (5 s, then 10 s, ...), not at every poll: a poll that sees the head it failed at is not a new commit.
    public func pollsRespectTheBackoff() async throws {
        try await withLoop(services: service("bad"), files: ["bad/cm.yaml": "kind: [unclosed\n"]) { running in
            #expect(
                try await Self.eventually {
                    try await running.store.status(of: "bad")?.lastResult == .failed
                })
            // Four more polls pass; the first retry is due only after about 5 s.
            try await Task.sleep(for: .seconds(4))
            let attempts = try await running.store.history(of: "bad").map(\.count).reduce(0, +)
            #expect(attempts == 1, "attempted \(attempts) times in about 4 s with poll_interval: 1")
            // A new commit is tried at once, backoff or not.
            try await running.remote.commit(["bad/cm.yaml": "kind: [still unclosed\n"])
            #expect(
                try await Self.eventually(5) {
                    try await running.store.history(of: "bad").map(\.count).reduce(0, +) >= 2
                })
        }
    }

    /// A repository that no service uses is never polled, and does not keep `/readyz` from turning ready.
    public func readyDespiteAnUnusedRepository() async throws {
        try await withLoop(
            services: service("a"), extraConfig: "  unused: {url: file:///nonexistent/unused.git}\n",
            files: ["a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"]
        ) { running in
            let ready = try await Self.eventually { running.loop.isReady }
            #expect(ready, "never ready")
        }
    }

    /// A service waiting for a Deployment that cannot become ready gives way to a commit that fixes it: the commit
    /// is applied within seconds, not after the 60 s timeout, and the service that depends on it follows.
    public func newCommitEndsTheHealthWait() async throws {
        try await withLoop(
            services: service("db", "wait: true, timeout: 60") + service("app", "depends_on: [db]"),
            files: [
                "db/deploy.yaml": deployment("db", replicas: 1),
                "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: v}\n",
            ]
        ) { running in
            let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/db"
            #expect(try await Self.eventually { (try? await api.get(path)) != nil }, "db was not applied")
            // db now waits for a rollout that cannot finish (no Pod ever runs here). A commit that does not change db
            // leaves the wait alone.
            try await Task.sleep(for: .seconds(1))
            try await running.remote.commit(["other/readme.txt": "not a manifest"])
            try await Task.sleep(for: .seconds(3))
            let interrupted = try await running.store.history(of: "db").contains { $0.result == .superseded }
            #expect(!interrupted, "a commit that does not change db ended its health wait")
            let started = ContinuousClock.now
            try await running.remote.commit(["db/deploy.yaml": deployment("db", replicas: 0)])
            #expect(
                try await Self.eventually(30) {
                    (try? await api.get(path))?["spec"]?["replicas"] == 0
                }, "the fix was not applied")
            #expect(ContinuousClock.now - started < .seconds(30), "the fix waited for the health timeout")
            #expect(
                try await Self.eventually(30) {
                    (try? await api.get("/api/v1/namespaces/\(namespace)/configmaps/app")) != nil
                }, "the dependent service did not follow")
            #expect(try await running.store.status(of: "db")?.lastResult == .succeeded)
            // The apply whose wait gave way is in the history, with what it changed.
            let superseded = try await running.store.history(of: "db").filter { $0.result == .superseded }
            #expect(superseded.count == 1 && (superseded.first?.counts[.created] ?? 0) >= 1, "\(superseded)")
        }
    }
}
