import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryTesting

/// Runtime suspensions read at the start of a term, when the cluster does not answer at once.
@Suite("Suspensions at term start")
struct SuspensionLoadTests {
    @Test("a failed LIST of the inventories is tried again before any service runs: a suspended service stays so")
    func listRetried() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit(["shop/cm.yaml": TestReconciler.configMap("shop", "1")])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: shop, github: r, k8s_yaml_dir: shop}
                poll_interval: 1
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            func value() -> JSONValue? {
                server.object(resource: "configmaps", namespace: "default", name: "shop")?["data"]?["k"]
            }
            // First term: applied, then suspended (the annotation on its inventory holds it).
            let first = ReconcileLoop(
                config: config,
                reconciler: TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore()),
                logger: quiet)
            let group = ServiceGroup(services: [first], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await TestReconciler.eventually { value() == "1" })
                #expect(try await first.suspend(service: "shop"))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            try await remote.commit(["shop/cm.yaml": TestReconciler.configMap("shop", "2")])

            // A new replica with an empty state store; the first LISTs of the inventories fail.
            server.failNext(2, status: 403, message: "refused by a test") { request in
                request.method == "GET" && request.path.hasSuffix("/configmaps")
            }
            let second = ReconcileLoop(
                config: config,
                reconciler: TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore()),
                logger: quiet, suspensionReadRetries: [.milliseconds(100), .milliseconds(100), .milliseconds(100)])
            let group2 = ServiceGroup(services: [second], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group2.run() }
                #expect(try await TestReconciler.eventually { second.runtimeSuspensions["shop"] != nil })
                // Several polls: the new commit is not applied to the suspended service.
                try await Task.sleep(for: .seconds(3))
                #expect(value() == "1")
                #expect(second.runtimeSuspensions["shop"] != nil)
                await group2.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }

    @Test("resume clears the cluster's annotation even when this process did not know the service was suspended")
    func resumeAlwaysClears() async throws {
        try await FakeAPIServer.withServer { server in
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { cache.remove() }
            let text =
                "github_configs:\n  r: {url: file:///nowhere}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: shop}\n"
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            // Suspended by another replica: the annotation is in the cluster, this loop never read it.
            try await reconciler.syncer.inventories.setSuspended(service: "shop", since: "2026-01-01T00:00:00Z")
            let loop = ReconcileLoop(config: config, reconciler: reconciler, logger: TestReconciler.quiet)
            #expect(loop.runtimeSuspensions.isEmpty)
            try await loop.resume(service: "shop")
            #expect(try await reconciler.syncer.inventories.suspensions().isEmpty)
            // Twice: harmless.
            try await loop.resume(service: "shop")
            await api.shutdown()
        }
    }

    @Test("a suspension is not written on another instance's inventory")
    func foreignInventoryRefused() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let other = ClusterInventory(api: api, instance: "other")
            try await other.setSuspended(service: "shop", since: "2026-01-01T00:00:00Z")
            try await other.setSuspended(service: "shop", since: nil)
            let mine = ClusterInventory(api: api, instance: "mine")
            await #expect {
                try await mine.setSuspended(service: "shop", since: "2026-02-02T00:00:00Z")
            } throws: { error in
                "\(error)".contains("instance 'other'")
            }
            #expect(try await other.loadAll()["shop"]?.suspendedAt == nil)
            await api.shutdown()
        }
    }

    @Test("a service added back by a reload stays suspended when the cluster says it is")
    func addedBackStaysSuspended() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit([
                "keep/cm.yaml": TestReconciler.configMap("keep", "1"),
                "gone/cm.yaml": TestReconciler.configMap("gone", "1"),
            ])
            func config(_ names: [String]) throws -> WherryConfig {
                let services = names.map { "  - {name: \($0), github: r, k8s_yaml_dir: \($0)}\n" }.joined()
                let text = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n\(services)"
                return try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            }
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let loop = ReconcileLoop(config: try config(["keep"]), reconciler: reconciler, logger: quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await TestReconciler.eventually { loop.reconciledRevisions["keep"] != nil })
                // Suspended (by another replica, or before it was removed): its inventory carries the annotation.
                try await reconciler.syncer.inventories.setSuspended(service: "gone", since: "2026-01-01T00:00:00Z")
                #expect(await loop.reloadReadingSuspensions(try config(["keep", "gone"])).added == ["gone"])
                #expect(loop.runtimeSuspensions["gone"] != nil)
                try await Task.sleep(for: .seconds(2))
                #expect(server.object(resource: "configmaps", namespace: "default", name: "gone") == nil)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }
}
