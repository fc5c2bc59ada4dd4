import Foundation
import Logging
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryTesting

/// The reconcile pipeline against a real git repository and FakeAPIServer.
@Suite("Reconciling one service")
struct ReconcilerTests {
    /// A remote with two services, a config, and a reconciler on a fake cluster.
    private struct Setup {
        let remote: GitRemoteFixture
        let cache: TemporaryDirectory
        let config: WherryConfig
        let api: HTTPKubeAPI

        func reconciler(store: any StatusStore) -> Reconciler {
            TestReconciler.make(api: api, cache: cache, store: store)
        }

        func service(_ name: String) -> ServiceConfig { config.services.first { $0.name == name }! }

        func remove() async {
            await api.shutdown()
            remote.remove()
            cache.remove()
        }
    }

    private static func configMap(_ name: String, _ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: default\ndata:\n  k: \"\(value)\"\n"
    }

    private func withSetup(
        suspendB: Bool = false, _ body: @Sendable (Setup, FakeAPIServer) async throws -> Void
    ) async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            try await remote.commit(["a/cm.yaml": Self.configMap("a", "1"), "b/cm.yaml": Self.configMap("b", "1")])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: a, github: r, k8s_yaml_dir: a}
                  - {name: b, github: r, k8s_yaml_dir: b, suspend: \(suspendB)}
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let api = try TestReconciler.client(server)
            let setup = Setup(
                remote: remote, cache: try TemporaryDirectory(prefix: "cache"), config: config, api: api)
            do {
                try await body(setup, server)
            } catch {
                await setup.remove()
                throw error
            }
            await setup.remove()
        }
    }

    @Test("applies, then an unchanged tree costs no API request, even on a new commit")
    func unchangedTreeIsFree() async throws {
        try await withSetup { setup, server in
            let reconciler = setup.reconciler(store: InMemoryStatusStore())
            guard
                case .applied(let first, _) = await reconciler.reconcile(
                    setup.service("a"), in: setup.config, trigger: .poll)
            else {
                Issue.record("the first reconcile did not apply")
                return
            }
            #expect(first.changes.entries.map(\.action) == [.created])
            // A commit that touches only service b.
            try await setup.remote.commit(["b/cm.yaml": Self.configMap("b", "2")])
            server.resetRequests()
            let second = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            guard case .upToDate = second else {
                Issue.record("expected upToDate, got \(second)")
                return
            }
            #expect(server.requests.isEmpty)
            guard
                case .applied(let b, _) = await reconciler.reconcile(
                    setup.service("b"), in: setup.config, trigger: .poll)
            else {
                Issue.record("service b was not applied")
                return
            }
            #expect(b.changes.entries.map(\.action) == [.created])
        }
    }

    @Test("a failure is recorded and does not move the applied revision; the fix applies")
    func failureKeepsRevision() async throws {
        try await withSetup { setup, server in
            let store = InMemoryStatusStore()
            let reconciler = setup.reconciler(store: store)
            _ = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            let applied = try #require(try await store.status(of: "a")?.lastAppliedRevision)
            try await setup.remote.commit([
                "a/cm.yaml": Self.configMap("a", "2") + "  extra: [1, 2]\n"
            ])
            let outcome = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            guard case .failed = outcome else {
                Issue.record("expected a failure, got \(outcome)")
                return
            }
            let status = try #require(try await store.status(of: "a"))
            #expect(status.lastResult == .failed)
            #expect(status.lastAppliedRevision == applied)
            #expect(status.lastError?.contains("data.extra") == true, "\(status.lastError ?? "")")
            // The same broken tree is tried again (the loop's backoff decides when), not skipped as up to date.
            server.resetRequests()
            guard case .failed = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .retry)
            else {
                Issue.record("a failed tree was skipped")
                return
            }
            #expect(!server.requests.isEmpty)
            let fixed = try await setup.remote.commit(["a/cm.yaml": Self.configMap("a", "3")])
            guard case .applied = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .retry)
            else {
                Issue.record("the fix was not applied")
                return
            }
            #expect(try await store.status(of: "a")?.lastAppliedRevision == fixed)
            #expect(try await store.history(of: "a").map(\.result) == [.succeeded, .failed, .succeeded])
        }
    }

    @Test("after a restart the recorded state is known: nothing is re-applied, after one read of the cluster's record")
    func restartKeepsState() async throws {
        try await withSetup { setup, server in
            let state = try TemporaryDirectory(prefix: "state")
            defer { state.remove() }
            _ = await setup.reconciler(store: try SQLiteStatusStore(directory: state.path)).reconcile(
                setup.service("a"), in: setup.config, trigger: .poll)
            server.resetRequests()
            let restarted = setup.reconciler(store: try SQLiteStatusStore(directory: state.path))
            guard case .upToDate = await restarted.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            else {
                Issue.record("the restarted reconciler applied again")
                return
            }
            // The cluster's record is read once (another replica may have applied since); nothing else.
            #expect(
                server.requests.map { "\($0.method) \($0.path)" } == [
                    "GET /api/v1/namespaces/wherry-system/configmaps/wherry-inventory-a"
                ])
            server.resetRequests()
            guard case .upToDate = await restarted.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            else {
                Issue.record("the restarted reconciler applied again")
                return
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("suspend leaves a service alone unless it is asked for by name; manual and drift apply anyway")
    func suspendAndForce() async throws {
        try await withSetup(suspendB: true) { setup, _ in
            let reconciler = setup.reconciler(store: InMemoryStatusStore())
            guard case .suspended = await reconciler.reconcile(setup.service("b"), in: setup.config, trigger: .poll)
            else {
                Issue.record("a suspended service was reconciled")
                return
            }
            guard case .applied = await reconciler.reconcile(setup.service("b"), in: setup.config, trigger: .manual)
            else {
                Issue.record("a manual sync of a suspended service did not apply")
                return
            }
            _ = await reconciler.reconcile(setup.service("a"), in: setup.config, trigger: .poll)
            guard
                case .applied(let again, _) = await reconciler.reconcile(
                    setup.service("a"), in: setup.config, trigger: .drift)
            else {
                Issue.record("a drift check did not apply")
                return
            }
            #expect(again.changes.entries.map(\.action) == [.unchanged])
        }
    }
}
