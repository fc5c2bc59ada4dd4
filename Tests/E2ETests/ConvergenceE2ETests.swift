import Foundation
import Logging
import Testing
import WherryKube
import WherryScenarios

/// Prune, drift and health against a real cluster: the scenarios of the FakeAPIServer tests, unchanged. Set
/// WHERRY_E2E_KUBECONFIG to run them; each uses its own namespaces and removes them afterwards.
@Suite(
    "E2E: safe convergence against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct ConvergenceE2ETests {
    private func withScenarios(_ body: (ConvergenceScenarios) async throws -> Void) async throws {
        let api = try E2ECluster.api()
        let scenarios = ConvergenceScenarios(api: api, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())")
        do {
            try await body(scenarios)
        } catch {
            await scenarios.cleanUp()
            await api.shutdown()
            throw error
        }
        await scenarios.cleanUp()
        await api.shutdown()
    }

    @Test("removing a file prunes its object; the inventory follows")
    func prune() async throws { try await withScenarios { try await $0.prunesWhatLeftGit() } }

    @Test("moved, relabelled and protected objects are kept")
    func kept() async throws { try await withScenarios { try await $0.keepsMovedRelabelledAndProtected() } }

    @Test("a namespace holding foreign objects is kept until they are gone")
    func namespace() async throws { try await withScenarios { try await $0.keepsNamespaceWithForeignObjects() } }

    @Test("an empty render and a mass prune are refused unless allowed")
    func valves() async throws { try await withScenarios { try await $0.refusesEmptyRenderAndMassPrune() } }

    @Test("a drift check restores deleted and edited objects, and costs no request per unchanged object")
    func drift() async throws { try await withScenarios { try await $0.driftIsCorrected() } }

    @Test("ignored fields are left to other controllers")
    func ignored() async throws { try await withScenarios { try await $0.ignoredFieldsAreLeftAlone() } }

    @Test("a stateless service with a config directory applies; a config change rolls its pods")
    func stateless() async throws { try await withScenarios { try await $0.statelessServiceApplies() } }

    @Test("wait fails fast on a rollout past its deadline")
    func waitFailsFast() async throws { try await withScenarios { try await $0.waitFailsFastOnFailedRollout() } }
}
