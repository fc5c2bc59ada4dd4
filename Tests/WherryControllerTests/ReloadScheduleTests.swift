import Foundation
import Logging
import ServiceLifecycle
import Synchronization
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

/// What a reload counts as a change.
@Suite("Reload: changes")
struct ReloadChangeTests {
    static let services = """
        services:
          - {name: shop, github: r, k8s_yaml_dir: shop}
        """

    static func config(_ text: String, remote: String = "file:///nowhere") throws -> WherryConfig {
        try ConfigLoader.parse(
            "github_configs:\n  r: {url: \(remote)}\npoll_interval: 1\n" + text, file: "c.yaml", baseDirectory: "/"
        ).config
    }

    @Test("a comment added at the top moves every line, and changes nothing")
    func commentChangesNothing() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let loop = ReconcileLoop(
                config: try Self.config(Self.services), reconciler: reconciler, logger: TestReconciler.quiet)
            let moved = try ConfigLoader.parse(
                "# a comment\n\n" + "github_configs:\n  r: {url: file:///nowhere}\npoll_interval: 1\n" + Self.services,
                file: "c.yaml", baseDirectory: "/"
            ).config
            #expect(moved.services[0].location != loop.config.services[0].location)
            let report = loop.reload(moved)
            #expect(report.isEmpty, "\(report)")
            #expect(loop.schedules["shop"] == nil)
            // A real change is one, and its run is asked for as a config change, not a manual sync.
            let changed = loop.reload(
                try Self.config(Self.services.replacingOccurrences(of: "k8s_yaml_dir: shop", with: "k8s_yaml_dir: x")))
            #expect(changed.changed == ["shop"])
            #expect(loop.schedules["shop"]?.running == true)
            await api.shutdown()
        }
    }

    @Test("a changed service re-applies with the trigger `config`")
    func configTrigger() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit(["shop/cm.yaml": TestReconciler.configMap("shop", "1")])
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let triggers = Mutex<[ReconcileTrigger]>([])
            let loop = ReconcileLoop(
                config: try Self.config(Self.services, remote: remote.fileURL), reconciler: reconciler,
                logger: quiet,
                events: { event in
                    if case .reconcileStarted("shop", let trigger) = event { triggers.withLock { $0.append(trigger) } }
                })
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await TestReconciler.eventually { loop.reconciledRevisions["shop"] != nil })
                let changed = Self.services.replacingOccurrences(of: "}", with: ", prune: false}")
                #expect(loop.reload(try Self.config(changed, remote: remote.fileURL)).changed == ["shop"])
                #expect(try await TestReconciler.eventually { triggers.withLock { $0.contains(.config) } })
                #expect(!triggers.withLock { $0.contains(.manual) })
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
        }
    }
}
