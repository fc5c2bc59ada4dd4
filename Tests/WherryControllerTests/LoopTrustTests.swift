import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryTesting

/// The loop's promises around dependencies, suspension and cancellation.
@Suite("The reconcile loop: dependencies, suspension, cancellation")
struct LoopTrustTests {
    @Test("a manual sync of a service blocked on a dependency runs, as a manual sync, once the dependency is ready")
    func manualSyncWhileBlocked() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit([
                "base/cm.yaml": TestReconciler.configMap("base", "1"),
                "app/cm.yaml": TestReconciler.configMap("app", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: app, github: r, k8s_yaml_dir: app, depends_on: [base], drift_interval: 0}
                  - {name: base, github: r, k8s_yaml_dir: base, drift_interval: 0}
                poll_interval: 1
                """
            try await TestReconciler.withLoop(server, config: text) { loop, store in
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .succeeded })
                // base breaks: app (unchanged) waits for it.
                try await remote.commit(["base/cm.yaml": TestReconciler.configMap("base", "2") + "  extra: [1, 2]\n"])
                #expect(try await TestReconciler.eventually { loop.blocked["app"] == "base" })
                let before = try await store.history(of: "app").map(\.count).reduce(0, +)
                loop.trigger(service: "app", .manual)
                try await Task.sleep(for: .milliseconds(500))
                // base is fixed: app runs as the manual sync asked, although nothing in app changed.
                try await remote.commit(["base/cm.yaml": TestReconciler.configMap("base", "3")])
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "base")?.lastResult == .succeeded }
                )
                #expect(
                    try await TestReconciler.eventually {
                        try await store.history(of: "app").map(\.count).reduce(0, +) > before
                    }, "the manual sync asked while blocked was lost")
            }
        }
    }

    @Test("a suspended dependency is named as such, not left silent")
    func suspendedDependency() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit([
                "base/cm.yaml": TestReconciler.configMap("base", "1"),
                "app/cm.yaml": TestReconciler.configMap("app", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: app, github: r, k8s_yaml_dir: app, depends_on: [base]}
                  - {name: base, github: r, k8s_yaml_dir: base, suspend: true}
                poll_interval: 1
                """
            try await TestReconciler.withLoop(server, config: text) { loop, _ in
                let named = try await TestReconciler.eventually { loop.blocked["app"] == "base (suspended)" }
                #expect(named, "\(loop.blocked)")
            }
        }
    }

    @Test("a reconcile cancelled while it renders (a lost lease, a shutdown) records no failure")
    func cancelledRenderIsNotAFailure() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            try await remote.commit(["a/cm.yaml": TestReconciler.configMap("a", "1")])
            let text =
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            let reconciler = TestReconciler.make(api: api, cache: cache, store: store)
            let service = try #require(config.service(named: "a"))
            // Cancelled before it starts: git is stopped at once.
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await reconciler.reconcile(service, in: config, trigger: .poll)
            }
            let outcome = await task.value
            await api.shutdown()
            guard case .cancelled = outcome else {
                Issue.record("a cancelled reconcile ended as \(outcome)")
                return
            }
            #expect(try await store.status(of: "a") == nil, "a cancelled reconcile was recorded")
        }
    }

    @Test("the recorded state of a service removed from the config goes at start, unless it is orphaned")
    func forgetsRemovedServices() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit(["a/cm.yaml": TestReconciler.configMap("a", "1")])
            let store = InMemoryStatusStore()
            for name in ["gone", "orphan"] {
                try await store.record(
                    ReconcileAttempt(
                        service: name, revision: "abc", result: .succeeded, startedAt: Date(), durationSeconds: 1))
            }
            // "orphan" still owns objects in the cluster.
            let api = try TestReconciler.client(server)
            try await ClusterInventory(api: api).save(
                Inventory([InventoryEntry(line: "v1 ConfigMap default/left")!]), service: "orphan", revision: "abc",
                replacing: nil)
            await api.shutdown()
            let text =
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"
            try await TestReconciler.withLoop(server, config: text, store: store) { loop, store in
                let orphaned = try await TestReconciler.eventually { loop.orphans["orphan"] == 1 }
                let forgotten = try await TestReconciler.eventually { try await store.status(of: "gone") == nil }
                let kept = try await store.status(of: "orphan") != nil
                #expect(orphaned && forgotten && kept, "orphaned \(orphaned), forgotten \(forgotten), kept \(kept)")
            }
        }
    }

    @Test("a new leadership term does not retry at the branch head of the last term")
    func newTermResolvesAgain() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            let broken = try await remote.commit(["a/cm.yaml": "kind: [unclosed\n"])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: a, github: r, k8s_yaml_dir: a}
                poll_interval: 3600
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            let loop = ReconcileLoop(
                config: config, reconciler: TestReconciler.make(api: api, cache: cache, store: store),
                logger: TestReconciler.quiet)
            // First term: the service fails at the broken commit; the term ends (a lost lease cancels it).
            let first = Task { try await loop.run() }
            let failed = try await TestReconciler.eventually { try await store.status(of: "a")?.lastResult == .failed }
            first.cancel()
            _ = try? await first.value
            // Meanwhile another leader would apply the fix; the retry of the broken commit is due by now.
            let fixed = try await remote.commit(["a/cm.yaml": TestReconciler.configMap("a", "1")])
            try await Task.sleep(for: .seconds(6))
            let second = Task { try await loop.run() }
            let applied = try await TestReconciler.eventually {
                try await store.status(of: "a")?.lastAppliedRevision == fixed
            }
            second.cancel()
            _ = try? await second.value
            await api.shutdown()
            let attemptsAtBroken = try await store.history(of: "a").filter { $0.revision == broken }.map(\.count)
                .reduce(0, +)
            #expect(failed && applied)
            #expect(attemptsAtBroken == 1, "the new term retried the old head \(attemptsAtBroken - 1) more time(s)")
        }
    }
}
