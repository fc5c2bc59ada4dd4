import Foundation
import Testing
import WherryController
import WherryGit
import WherryModel
import WherryRender
import WherryTesting

/// A service's render with SOPS-encrypted manifests, on real repositories.
@Suite("Secrets in Git: rendering")
struct SecretsRenderTests {
    @Test("two whole-file encrypted manifests that decrypt to one object fail as a duplicate")
    func duplicateAfterDecryption() async throws {
        let key = try await TestAgeKey()
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            key.remove()
            remote.remove()
            cache.remove()
        }
        let secret = SecretsReconcileTests.secret("dup-Pl41ntext")
        try await remote.commit([
            "app/a.yaml": try await key.encrypt(secret, encryptedRegex: nil),
            "app/b.yaml": try await key.encrypt(secret, encryptedRegex: nil),
        ])
        let config = try SecretsReconcileTests.config(
            remote, repository: ", decryption: {provider: sops, age_key_file: \(key.file)}")
        let error = try await #require(throws: ServiceRenderError.self) {
            try await ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)).render(
                config.services[0], in: config)
        }
        #expect(error.step == .render)
        #expect(error.description.contains("app/b.yaml:1:1: Secret/default/db: defined twice"), "\(error)")
        #expect(!error.description.contains("dup-Pl41ntext"))
    }
}
