import Foundation
import Logging
import Testing
import WherryKube
import WherryScenarios

/// The trust scenarios against a real cluster: the same as the FakeAPIServer tests. Set WHERRY_E2E_KUBECONFIG to
/// run them; each uses its own namespaces and removes them afterwards.
@Suite(
    "E2E: trust (prune, intent, records, loop) against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct TrustE2ETests {
    private func withScenarios(_ body: (ConvergenceScenarios) async throws -> Void) async throws {
        try await E2ECluster.with(
            { ConvergenceScenarios(api: $0, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())") },
            cleanUp: { await $0.cleanUp() }, body)
    }

    private func withLoop(_ body: (LoopScenarios) async throws -> Void) async throws {
        try await E2ECluster.with(
            { LoopScenarios(api: $0, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())") },
            cleanUp: { await $0.cleanUp() }, body)
    }

    @Test("a Namespace holding a protected object is kept, and pruned once the object is gone")
    func namespaceWithProtectedObject() async throws {
        try await withScenarios { try await $0.keepsNamespaceHoldingProtectedObject() }
    }

    @Test("an apply that fails half-way leaves what it wrote in the inventory, so it is pruned later")
    func intent() async throws { try await withScenarios { try await $0.recordsIntentBeforeWriting() } }

    @Test("pruning an old service keeps what another configured service's Git holds now")
    func pruneOfOldService() async throws {
        try await withScenarios { try await $0.pruneOfOldServiceKeepsWhatAnotherServiceHolds() }
    }

    @Test("a rollback to a render this replica applied long ago is applied: the cluster's record says otherwise")
    func rollback() async throws {
        try await withScenarios { try await $0.rollbackIsAppliedAgainstTheClustersRecord() }
    }

    @Test("the inventory is written only over the version read: a second writer's entries are never lost")
    func inventoryPrecondition() async throws {
        try await withScenarios { try await $0.inventoryWritesAreConditional() }
    }

    @Test("wherry sync killed mid-apply: what it wrote is pruned once Git drops it")
    func killedSync() async throws {
        try await E2ECluster.with(
            {
                KillScenarios(
                    api: $0, kubeconfig: E2ECluster.kubeconfig,
                    namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())")
            }, cleanUp: { await $0.cleanUp() }
        ) { try await $0.killedSyncStillPrunesWhatItWrote() }
    }

    @Test("a prune held back by a service that cannot be rendered fails the sync and goes ahead once it renders")
    func deferredPrune() async throws { try await withScenarios { try await $0.deferredPruneIsRetried() } }

    @Test("reverting a commit the dry run refused is not a mass prune of objects never written")
    func revertOfRefusedCommit() async throws {
        try await withScenarios { try await $0.revertOfRefusedCommitIsNotAMassPrune() }
    }

    @Test("polls wait for the backoff after a failure; a new commit does not")
    func backoff() async throws { try await withLoop { try await $0.pollsRespectTheBackoff() } }

    @Test("the loop turns ready although a configured repository is used by no service")
    func ready() async throws { try await withLoop { try await $0.readyDespiteAnUnusedRepository() } }

    @Test("a new commit ends a health wait at once; the dependent service follows")
    func healthWaitGivesWay() async throws { try await withLoop { try await $0.newCommitEndsTheHealthWait() } }
}
