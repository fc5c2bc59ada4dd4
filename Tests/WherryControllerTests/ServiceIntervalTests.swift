import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryModel
import WherryTesting

/// A service's own `interval`: how often it looks at its branch, whatever `poll_interval` says.
@Suite("Per-service interval")
struct ServiceIntervalTests {
    @Test("a service with interval: 3600 does not take a new commit at the 1 s poll; its neighbour does")
    func intervalHonoured() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit([
                "fast/cm.yaml": TestReconciler.configMap("fast", "1"),
                "slow/cm.yaml": TestReconciler.configMap("slow", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: fast, github: r, k8s_yaml_dir: fast}
                  - {name: slow, github: r, k8s_yaml_dir: slow, interval: 3600}
                poll_interval: 1
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let loop = ReconcileLoop(config: config, reconciler: reconciler, logger: quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                func value(_ name: String) -> JSONValue? {
                    server.object(resource: "configmaps", namespace: "default", name: name)?["data"]?["k"]
                }
                // The first look of every service is at start.
                #expect(try await TestReconciler.eventually { value("fast") == "1" && value("slow") == "1" })
                try await remote.commit([
                    "fast/cm.yaml": TestReconciler.configMap("fast", "2"),
                    "slow/cm.yaml": TestReconciler.configMap("slow", "2"),
                ])
                #expect(try await TestReconciler.eventually { value("fast") == "2" })
                // Several more polls of the repository: the slow service still waits for its hour.
                try await Task.sleep(for: .seconds(3))
                #expect(value("slow") == "1")
                // Asked for by name, it runs at once.
                loop.trigger(service: "slow", .manual)
                #expect(try await TestReconciler.eventually { value("slow") == "2" })
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }
}
