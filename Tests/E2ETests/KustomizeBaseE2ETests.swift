import Foundation
import Testing
import WherryScenarios

/// The bundled kustomize overlay on a real cluster: sync it, edit its base in Git, reconcile, the live Deployment
/// changed. Set WHERRY_E2E_KUBECONFIG to run it; it uses its own namespaces and removes them afterwards.
@Suite(
    "E2E: an edit to a kustomize base is applied",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct KustomizeBaseE2ETests {
    @Test("the bundled overlay: applied, up to date with no request, then the base edit reaches the live object")
    func baseEditApplied() async throws {
        let api = try E2ECluster.api()
        let scenarios = ConvergenceScenarios(api: api, namespace: "wherry-e2e-kbase-\(ApplyScenarios.uniqueSuffix())")
        do {
            try await scenarios.kustomizeBaseEditIsApplied()
        } catch {
            await scenarios.cleanUp()
            await api.shutdown()
            throw error
        }
        await scenarios.cleanUp()
        await api.shutdown()
    }
}
