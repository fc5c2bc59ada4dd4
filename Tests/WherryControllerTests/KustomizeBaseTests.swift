import Testing
import WherryScenarios
import WherryTesting

/// The bundled kustomize overlay against FakeAPIServer (the same scenario runs in E2E).
@Suite("An edit to a kustomize base outside the service's directory")
struct KustomizeBaseTests {
    @Test("is applied by the next poll; unchanged, the overlay costs no request")
    func baseEditApplied() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let scenarios = ConvergenceScenarios(api: api, namespace: "kbase-\(ApplyScenarios.uniqueSuffix())")
            do {
                try await scenarios.kustomizeBaseEditIsApplied()
            } catch {
                await api.shutdown()
                throw error
            }
            await api.shutdown()
        }
    }
}
