import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryTesting

/// The loop running for real: a git repository, a fake cluster, polls every second.
@Suite("The reconcile loop")
struct ReconcileLoopTests {
    @Test("applies a pushed commit; a commit for service b costs service a nothing; shutdown ends the run")
    func pushThenShutdown() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit([
                "a/cm.yaml": TestReconciler.configMap("a", "1"), "b/cm.yaml": TestReconciler.configMap("b", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: a, github: r, k8s_yaml_dir: a}
                  - {name: b, github: r, k8s_yaml_dir: b}
                poll_interval: 1
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            let reconciler = TestReconciler.make(api: api, cache: cache, store: store)
            let notified = Mutex<[DeployNotification]>([])
            let metrics = TestMetrics()
            let loop = ReconcileLoop(
                config: config, reconciler: reconciler, logger: quiet,
                metrics: ControllerMetrics(factory: metrics),
                notify: { notification in notified.withLock { $0.append(notification) } })
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                func value(_ name: String) -> JSONValue? {
                    server.object(resource: "configmaps", namespace: "default", name: name)?["data"]?["k"]
                }
                #expect(try await TestReconciler.eventually { value("a") == "1" && value("b") == "1" })
                #expect(try await TestReconciler.eventually { loop.isReady })
                // The objects are live a moment before the reconcile records them.
                #expect(
                    try await TestReconciler.eventually {
                        let a = try await store.status(of: "a")?.lastAppliedRevision
                        let b = try await store.status(of: "b")?.lastAppliedRevision
                        return a != nil && b != nil
                    })
                let applied = try #require(try await store.status(of: "a")?.lastAppliedRevision)
                server.resetRequests()
                let second = try await remote.commit(["b/cm.yaml": TestReconciler.configMap("b", "2")])
                #expect(try await TestReconciler.eventually { value("b") == "2" })
                #expect(
                    try await TestReconciler.eventually {
                        try await store.status(of: "b")?.lastAppliedRevision == second
                    })
                #expect(server.requests.filter { $0.path.hasSuffix("/configmaps/a") }.isEmpty)
                // Told: both first applies and b's change; a's unchanged polls are not news. Notifications and
                // metrics follow the record by a moment.
                #expect(try await TestReconciler.eventually { notified.withLock { $0.count } >= 3 })
                #expect(
                    try await TestReconciler.eventually {
                        (try? metrics.expectCounter(
                            "wherry_reconcile_total", [("service", "b"), ("result", "succeeded")]))?.totalValue == 2
                    })
                let told = notified.withLock { $0 }.map { "\($0.service)@\($0.revision.prefix(7)) \($0.succeeded)" }
                #expect(
                    Set(told) == [
                        "a@\(applied.prefix(7)) true", "b@\(applied.prefix(7)) true", "b@\(second.prefix(7)) true",
                    ])
                #expect(try await store.status(of: "a")?.lastAppliedRevision == applied)
                // Metrics: b applied twice, one ConfigMap created then one configured; a's polls unchanged.
                #expect(
                    try metrics.expectCounter("wherry_reconcile_total", [("service", "b"), ("result", "succeeded")])
                        .totalValue == 2)
                #expect(
                    try metrics.expectCounter("wherry_applied_objects_total", [("action", "configured")]).totalValue
                        == 1)
                #expect(try metrics.expectTimer("wherry_reconcile_duration_seconds").values.count >= 3)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }

    @Test("shutdown while an apply is in flight lets it finish and starts nothing new")
    func shutdownDuringApply() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit(["a/cm.yaml": TestReconciler.configMap("a", "1")])
            let text =
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            let reconciler = TestReconciler.make(api: api, cache: cache, store: store)
            let loop = ReconcileLoop(config: config, reconciler: reconciler, logger: quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            server.responseDelay = .milliseconds(300)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // An apply of the service's objects is in flight (not only the term's first reads).
                #expect(
                    try await TestReconciler.eventually {
                        server.requests.contains { $0.method == "PATCH" && $0.path.contains("/configmaps/a") }
                    })
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // The apply that was running finished and was recorded; nothing ran after it.
            #expect(server.object(resource: "configmaps", namespace: "default", name: "a") != nil)
            #expect(try await store.status(of: "a")?.lastResult == .succeeded)
            await api.shutdown()
        }
    }

    @Test("a service waits for its dependency to succeed; an object deleted by hand is back at the next drift check")
    func dependencyThenDrift() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            // base is invalid at first: app must wait for it.
            try await remote.commit([
                "base/cm.yaml": TestReconciler.configMap("base", "1") + "  extra: [1, 2]\n",
                "app/cm.yaml": TestReconciler.configMap("app", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: app, github: r, k8s_yaml_dir: app, depends_on: [base], drift_interval: 2}
                  - {name: base, github: r, k8s_yaml_dir: base, drift_interval: 0}
                poll_interval: 1
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            let metrics = TestMetrics()
            let loop = ReconcileLoop(
                config: config, reconciler: TestReconciler.make(api: api, cache: cache, store: store),
                logger: TestReconciler.quiet, metrics: ControllerMetrics(factory: metrics))
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: TestReconciler.quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                func exists(_ name: String) -> Bool {
                    server.object(resource: "configmaps", namespace: "default", name: name) != nil
                }
                #expect(try await TestReconciler.eventually { loop.blocked["app"] == "base" })
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "base")?.lastResult == .failed })
                #expect(!exists("app"))
                try await remote.commit(["base/cm.yaml": TestReconciler.configMap("base", "2")])
                #expect(try await TestReconciler.eventually { exists("base") && exists("app") })
                #expect(try await TestReconciler.eventually { loop.blocked["app"] == nil })
                // Someone deletes app's object: the drift check (every 2 s) puts it back and counts it.
                #expect(server.remove(resource: "configmaps", namespace: "default", name: "app"))
                #expect(try await TestReconciler.eventually(10) { exists("app") })
                #expect(
                    try await TestReconciler.eventually {
                        (try? metrics.expectCounter("wherry_drift_corrections_total", [("service", "app")]))?
                            .totalValue == 1
                    })
                let status = try #require(try await store.status(of: "app"))
                #expect(status.driftCorrections == 1)
                #expect(status.lastDrift == ["ConfigMap/default/app"])
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }
}
