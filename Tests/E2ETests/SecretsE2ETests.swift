import Foundation
import Testing
import WherryScenarios

/// SOPS decryption and commit signatures on a real cluster. Set WHERRY_E2E_KUBECONFIG to run it; it uses its own
/// namespaces and removes them afterwards.
@Suite(
    "E2E: an encrypted Secret in a signed commit is applied, an unsigned commit is refused",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct SecretsE2ETests {
    @Test("the Secret's data on the real server is the plaintext; the unsigned change never reaches it")
    func encryptedSecretInSignedCommits() async throws {
        try await E2ECluster.with(
            { ConvergenceScenarios(api: $0, namespace: "wherry-e2e-sops-\(ApplyScenarios.uniqueSuffix())") },
            cleanUp: { await $0.cleanUp() }
        ) { scenarios in
            try await scenarios.encryptedSecretInSignedCommits()
        }
    }
}
