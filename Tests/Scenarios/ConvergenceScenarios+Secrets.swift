import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryTesting

extension ConvergenceScenarios {
    /// A SOPS-encrypted Secret (age key made now) in a commit signed by a trusted SSH key: applied, and the
    /// Secret's data in the cluster is the plaintext. Then an unsigned commit that changes it is refused, and the
    /// cluster keeps the verified Secret.
    public func encryptedSecretInSignedCommits() async throws {
        let key = try await TestAgeKey()
        let signer = try await TestSigner.ssh(principal: "ops@wherry.invalid")
        defer {
            key.remove()
            signer.directory.remove()
        }
        let allowed = try key.directory.write("allowed_signers", signer.trustEntry + "\n")
        let plaintext = "e2e-Pl41ntext-\(ApplyScenarios.uniqueSuffix())"
        func secret(_ value: String) -> String {
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: \(value)\n"
        }
        let repository =
            ", decryption: {provider: sops, age_key_file: \(key.file)}, "
            + "verify: {mode: head, allowed_signers_file: \(allowed)}"
        try await withHarness(services: service("app"), files: [:], repository: repository) { harness in
            try await harness.remote.commit(
                ["app/secret.enc.yaml": try await key.encrypt(secret(plaintext))], signedBy: signer)
            let config = try harness.config()
            let reconciler = harness.reconciler(InMemoryStatusStore())
            let outcome = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
            guard case .applied = outcome else {
                Issue.record("the signed, encrypted Secret was not applied: \(outcome)")
                return
            }
            let applied = try await api.get(path("secrets", "db"))
            #expect(applied["data"]?["password"]?.stringValue == Data(plaintext.utf8).base64EncodedString())
            #expect(applied["sops"] == nil)

            let unsigned = try await harness.remote.commit([
                "app/secret.enc.yaml": try await key.encrypt(secret(plaintext + "-unsigned"))
            ])
            let refused = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
            #expect(refused.refusedCommit == unsigned)
            let kept = try await api.get(path("secrets", "db"))
            #expect(kept["data"]?["password"]?.stringValue == Data(plaintext.utf8).base64EncodedString())
        }
    }
}
