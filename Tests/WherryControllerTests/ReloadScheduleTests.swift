import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryModel
import WherryTesting

/// What a config reload leaves of a removed service's schedule.
@Suite("Reload: removed services")
struct ReloadScheduleTests {
    @Test("a service removed while its run was queued, then added back, reconciles again")
    func removedThenAddedBack() async throws {
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
            let loop = ReconcileLoop(config: try config(["keep", "gone"]), reconciler: reconciler, logger: quiet)
            // Asked for before the loop runs: queued, and its schedule says running.
            #expect(loop.trigger(service: "gone", .manual))
            #expect(loop.schedules["gone"]?.running == true)
            let removed = loop.reload(try config(["keep"]))
            #expect(removed.removed == ["gone"])
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                func value(_ name: String) -> JSONValue? {
                    server.object(resource: "configmaps", namespace: "default", name: name)?["data"]?["k"]
                }
                #expect(try await TestReconciler.eventually { value("keep") == "1" })
                // The queued run of the removed service ended without running: nothing of it is left.
                #expect(try await TestReconciler.eventually(5) { loop.schedules["gone"] == nil })
                #expect(value("gone") == nil)
                // Added back: it reconciles (it used to stay "running" for the rest of the term).
                #expect(loop.reload(try config(["keep", "gone"])).added == ["gone"])
                #expect(try await TestReconciler.eventually { value("gone") == "1" }, "\(loop.schedules)")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }

    @Test("a failing service removed from the config is not retried")
    func removedFailingNotRetried() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit([
                "keep/cm.yaml": TestReconciler.configMap("keep", "1"),
                "bad/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, map\n",
            ])
            func config(_ names: [String]) throws -> WherryConfig {
                let services = names.map { "  - {name: \($0), github: r, k8s_yaml_dir: \($0)}\n" }.joined()
                let text = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n\(services)"
                return try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            }
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let loop = ReconcileLoop(config: try config(["keep", "bad"]), reconciler: reconciler, logger: quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(
                    try await TestReconciler.eventually {
                        let schedule = loop.schedules["bad"]
                        return (schedule?.failures ?? 0) > 0 && schedule?.running == false
                    })
                loop.reload(try config(["keep"]))
                // No schedule is left to retry from (the retry check used to take a service it could not find as
                // not suspended).
                #expect(loop.schedules["bad"] == nil)
                try await Task.sleep(for: .seconds(1))
                #expect(loop.schedules["bad"] == nil)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }
}
