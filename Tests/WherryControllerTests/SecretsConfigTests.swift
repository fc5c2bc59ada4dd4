import Testing
import WherryController
import WherryGit
import WherryModel

@Suite("Config: decryption and verify")
struct SecretsConfigTests {
    private func load(_ text: String) throws -> WherryConfig {
        try ConfigLoader.parse(text, file: "gitops-config.yaml", baseDirectory: "/configs").config
    }

    private func errors(_ text: String) throws -> [String] {
        let error = try #require(throws: ConfigError.self) { try load(text) }
        return error.issues.map(\.description)
    }

    @Test("decryption on a repository is inherited by its services, a service's own wins; verify is read")
    func inherited() throws {
        let config = try load(
            """
            github_configs:
              r:
                url: https://example.com/r.git
                verify: {mode: head, allowed_signers_file: keys/allowed_signers}
                decryption: {provider: sops, age_key_file: keys/age.txt}
              g:
                url: https://example.com/g.git
                verify: {gpg_keys_file: /etc/wherry/trusted.asc}
            services:
              - {name: a, github: r, k8s_yaml_dir: a}
              - {name: b, github: r, k8s_yaml_dir: b, decryption: {provider: sops, age_key_env: B_KEY}}
              - {name: c, github: g, k8s_yaml_dir: c}
            """)
        let a = try #require(config.service(named: "a"))
        let b = try #require(config.service(named: "b"))
        let c = try #require(config.service(named: "c"))
        #expect(config.decryption(for: a)?.ageKey == .file("/configs/keys/age.txt"))
        #expect(config.decryption(for: b)?.ageKey == .environment("B_KEY"))
        #expect(config.decryption(for: c) == nil)
        #expect(
            config.repositories[0].verification
                == CommitVerification(mode: .head, trust: .sshAllowedSigners(file: "/configs/keys/allowed_signers")))
        #expect(config.repositories[1].verification?.trust == .gpgKeys(file: "/etc/wherry/trusted.asc"))
    }

    @Test("mistakes are located errors with what to do")
    func mistakes() throws {
        let found = try errors(
            """
            github_configs:
              r:
                url: https://example.com/r.git
                verify: {mode: tag, allowed_signers_file: a, gpg_keys_file: b}
                decryption: {provider: sops, age_key: AGE-SECRET-KEY-1XYZ}
            services:
              - name: a
                github: r
                k8s_yaml_dir: a
                decryption: {provider: sopz, age_key_fil: k.txt}
            """)
        let text = found.joined(separator: "\n")
        #expect(text.contains("gitops-config.yaml:4:"))
        #expect(text.contains("'tag' is not a verification mode (mode: tag checks a tracked tag"))
        #expect(text.contains("sets both allowed_signers_file and gpg_keys_file"))
        #expect(text.contains("gitops-config.yaml:5:") && text.contains("would keep the key in the config"))
        #expect(text.contains("'sopz' is not a decryption provider (did you mean 'sops'?)"))
        #expect(text.contains("age_key_fil") && text.contains("did you mean 'age_key_file'"))
        #expect(text.contains("names no age key"))
        #expect(!text.contains("AGE-SECRET-KEY-1XYZ"))
    }

    @Test("the key is read when used: a missing variable or file says which and where")
    func keyReading() throws {
        let config = try load(
            """
            github_configs:
              r: {url: https://example.com/r.git, decryption: {provider: sops, age_key_env: WHERRY_TEST_AGE}}
            services:
              - {name: a, github: r, k8s_yaml_dir: a}
            """)
        let decryption = try #require(config.decryption(for: config.services[0]))
        let error = try #require(throws: ConfigError.self) { try decryption.readKey(environment: [:]) }
        #expect(error.description.contains("gitops-config.yaml:2:") && error.description.contains("WHERRY_TEST_AGE"))
        let key = try decryption.readKey(environment: ["WHERRY_TEST_AGE": "AGE-SECRET-KEY-1ABC\n"])
        #expect(key.value == "AGE-SECRET-KEY-1ABC" && "\(key)" == "***")
        #expect(DecryptionConfig.keyDigest(key) != DecryptionConfig.keyDigest(Secret("AGE-SECRET-KEY-1ABD")))
        // Nothing but a hash: any part of the key in it would break the shape.
        let digest = DecryptionConfig.keyDigest(key)
        #expect(digest.count == 16 && digest.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
