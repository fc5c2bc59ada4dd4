import Testing
import WherryScenarios
import WherryTesting

/// The encrypted-Secret and signed-commit scenario against FakeAPIServer (the same scenario runs in E2E).
@Suite("An encrypted Secret in signed commits")
struct SecretsScenarioTests {
    @Test("is applied with its plaintext data; an unsigned change is refused and never reaches the cluster")
    func encryptedSecretInSignedCommits() async throws {
        try await TestReconciler.withClient { api, _ in
            let scenarios = ConvergenceScenarios(api: api, namespace: "sops-\(ApplyScenarios.uniqueSuffix())")
            try await scenarios.encryptedSecretInSignedCommits()
        }
    }
}
