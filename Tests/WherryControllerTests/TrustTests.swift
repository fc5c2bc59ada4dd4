import Foundation
import Synchronization
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// The safety and correctness holes of issue "a controller people can trust", against FakeAPIServer (the same
/// scenarios run in E2E).
@Suite("Trust: prune, intent, records and the loop against FakeAPIServer")
struct TrustTests {
    /// Runs `body` with scenarios made on a client of a fresh FakeAPIServer.
    private func with<Scenarios: Sendable>(
        _ make: @escaping @Sendable (HTTPKubeAPI) -> Scenarios,
        _ body: @Sendable (Scenarios, FakeAPIServer) async throws -> Void
    ) async throws {
        try await TestReconciler.withClient { api, server in try await body(make(api), server) }
    }

    private func withScenarios(
        _ body: @Sendable (ConvergenceScenarios, FakeAPIServer) async throws -> Void
    ) async throws {
        try await with({ ConvergenceScenarios(api: $0, namespace: "trust-\(ApplyScenarios.uniqueSuffix())") }, body)
    }

    private func withLoop(_ body: @Sendable (LoopScenarios, FakeAPIServer) async throws -> Void) async throws {
        try await with({ LoopScenarios(api: $0, namespace: "loop-\(ApplyScenarios.uniqueSuffix())") }, body)
    }

    @Test("a Namespace holding a protected object is kept, and pruned once the object is gone")
    func namespaceWithProtectedObject() async throws {
        try await withScenarios { s, _ in try await s.keepsNamespaceHoldingProtectedObject() }
    }

    @Test("an apply that fails half-way leaves what it wrote in the inventory, so it is pruned later")
    func intent() async throws { try await withScenarios { s, _ in try await s.recordsIntentBeforeWriting() } }

    @Test("a write that fails after others were written: those are in the inventory and pruned later")
    func intentWithFailedWrite() async throws {
        try await withScenarios { s, server in
            try await s.recordsIntentWhenAWriteFails { method, path in
                // A permanent refusal of one object's write (not a dry run): the objects before it are written.
                server.failNext(1, status: 400, message: "refused by a test") { request in
                    request.method == method && request.path == path && request.query["dryRun"] == nil
                }
            }
        }
    }

    @Test("pruning an old service keeps what another configured service's Git holds now")
    func pruneOfOldService() async throws {
        try await withScenarios { s, _ in try await s.pruneOfOldServiceKeepsWhatAnotherServiceHolds() }
    }

    @Test("a rollback to a render this replica applied long ago is applied: the cluster's record says otherwise")
    func rollback() async throws {
        try await withScenarios { s, _ in try await s.rollbackIsAppliedAgainstTheClustersRecord() }
    }

    @Test("the inventory is written only over the version read: a second writer's entries are never lost")
    func inventoryPrecondition() async throws {
        try await withScenarios { s, _ in try await s.inventoryWritesAreConditional() }
    }

    @Test("a kind whose scope discovery cannot tell fails the inventory; it is never guessed namespaced")
    func unknownScope() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let role = KubeObject(body: [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "reader"],
            ])
            server.failNext(1000, status: 503, message: "discovery is down") { request in
                request.path.hasPrefix("/apis/rbac.authorization.k8s.io")
            }
            let failing = ResourceManager(api: api, logger: TestReconciler.quiet)
            await #expect(throws: ApplyError.self) {
                _ = try await failing.inventory(of: [role], defaultNamespace: "default")
            }
            await api.shutdown()
        }
    }

    @Test("wherry sync killed mid-apply: what it wrote is pruned once Git drops it")
    func killedSync() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let work = try TemporaryDirectory(prefix: "kill")
            defer { work.remove() }
            // Slow answers, so the kill lands in the middle of the apply.
            server.responseDelay = .milliseconds(15)
            let scenarios = KillScenarios(
                api: api, kubeconfig: try KillScenarios.kubeconfig(server: server.baseURL, inDirectory: work.path),
                namespace: "kill-\(ApplyScenarios.uniqueSuffix())")
            do {
                try await scenarios.killedSyncStillPrunesWhatItWrote()
            } catch {
                await api.shutdown()
                throw error
            }
            await api.shutdown()
        }
    }

    @Test("a prune held back by a service that cannot be rendered fails the sync and goes ahead once it renders")
    func deferredPrune() async throws { try await withScenarios { s, _ in try await s.deferredPruneIsRetried() } }

    @Test("reverting a commit the dry run refused is not a mass prune of objects never written")
    func revertOfRefusedCommit() async throws {
        try await withScenarios { s, _ in try await s.revertOfRefusedCommitIsNotAMassPrune() }
    }

    @Test("polls wait for the backoff after a failure; a new commit does not")
    func backoff() async throws { try await withLoop { s, _ in try await s.pollsRespectTheBackoff() } }

    @Test("/readyz turns ready although a configured repository is used by no service")
    func ready() async throws { try await withLoop { s, _ in try await s.readyDespiteAnUnusedRepository() } }

    @Test("a new commit ends a health wait at once; the dependent service follows")
    func healthWaitGivesWay() async throws { try await withLoop { s, _ in try await s.newCommitEndsTheHealthWait() } }
}
