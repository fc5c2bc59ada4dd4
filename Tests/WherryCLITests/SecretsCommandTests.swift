import Foundation
import Testing
import WherryModel
import WherryRender
import WherryTesting

@Suite("wherry render and install with SOPS-encrypted Secrets")
struct SecretsCommandTests {
    static let plaintext = "cl1-Pl41ntext-value"

    static let secret = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
          namespace: web
        stringData:
          password: \(plaintext)

        """

    @Test("render masks decrypted values unless --show-secrets; a wrong key fails with the reason, no plaintext")
    func renderMasks() async throws {
        let key = try await TestAgeKey()
        let other = try await TestAgeKey()
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "cli")
        defer {
            key.remove()
            other.remove()
            remote.remove()
            work.remove()
        }
        try await remote.commit(["apps/web/secret.enc.yaml": try await key.encrypt(Self.secret)])
        func config(_ keyFile: String) throws -> String {
            try work.write(
                "gitops-config.yaml",
                """
                github_configs:
                  site: {url: \(remote.fileURL), decryption: {provider: sops, age_key_file: \(keyFile)}}
                services:
                  - {name: web, github: site, k8s_yaml_dir: apps/web}
                """)
        }
        let state = ["--state-dir", work.path + "/state"]
        let masked = try await CLI.run(["render", "--config", try config(key.file)] + state)
        #expect(masked.exitCode == 0, "\(masked.stderr)")
        #expect(masked.stdout.contains("password: '***'") || masked.stdout.contains("password: \"***\""))
        #expect(!masked.all.contains(Self.plaintext))
        let json = try await CLI.run(["render", "--config", try config(key.file), "--output", "json"] + state)
        #expect(json.stdout.contains("\"***\"") && !json.all.contains(Self.plaintext))

        let shown = try await CLI.run(["render", "--config", try config(key.file), "--show-secrets"] + state)
        #expect(shown.exitCode == 0)
        #expect(shown.stdout.contains("password: \(Self.plaintext)"))
        #expect(!shown.stdout.contains("sops:"))

        let wrong = try await CLI.run(["render", "--config", try config(other.file)] + state)
        #expect(wrong.exitCode == 1)
        #expect(
            wrong.stderr.contains(
                "apps/web/secret.enc.yaml:1:1: Secret/web/db: cannot be decrypted: no age identity matches any recipient"
            ),
            "\(wrong.stderr)")
        #expect(!wrong.all.contains(Self.plaintext) && !wrong.all.contains("AGE-SECRET-KEY"))
    }

    @Test("install --sops-age-key-file keeps the key in the Secret and wires every decryption to its variable")
    func installWiresKey() async throws {
        let key = try await TestAgeKey()
        let work = try TemporaryDirectory(prefix: "install")
        defer {
            key.remove()
            work.remove()
        }
        try work.write("allowed_signers", "ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest\n")
        let config = try work.write(
            "gitops-config.yaml",
            """
            github_configs:
              site:
                url: https://git.example.com/site.git
                verify: {mode: head, allowed_signers_file: allowed_signers}
              other:
                url: https://git.example.com/other.git
            services:
              - {name: site, github: site, k8s_yaml_dir: deploy}
              - {name: other, github: other, k8s_yaml_dir: deploy, decryption: {provider: sops, age_key_file: k.txt}}
            """)
        let out = try await CLI.run([
            "install", "--cluster-name", "home", "--config-file", config, "--dry-run", "--sops-age-key-file", key.file,
        ])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(!out.all.contains("AGE-SECRET-KEY"))
        // The key appears once, base64-encoded in the Secret's data, and nowhere else (not in the ConfigMap, the
        // Deployment or a message).
        let encoded = Data(key.text.utf8).base64EncodedString()
        #expect(!out.stderr.contains(encoded))
        #expect(out.stdout.components(separatedBy: encoded).count == 2)
        let objects = try ManifestReader.objects(from: out.stdout, file: "install.yaml")
        for object in objects where object.kind != "Secret" {
            #expect(!YAMLWriter.document(.object(object.body)).contains(encoded), "\(object.ref)")
        }
        let secret = try #require(objects.first { $0.kind == "Secret" })
        let stored = secret.body["data"]?["WHERRY_SOPS_AGE_KEY"]?.stringValue.flatMap { Data(base64Encoded: $0) }
        #expect(stored.map { String(decoding: $0, as: UTF8.self) } == key.text)
        #expect(secret.body["data"]?["allowed-signers-site"] != nil)
        let text = try #require(
            objects.first { $0.kind == "ConfigMap" }?.body["data"]?.objectValue?.members.first?.value.stringValue)
        let installed = try YAMLReader.single(text, file: "config").json
        let site = installed["github_configs"]?["site"]
        #expect(site?["decryption"]?["age_key_env"] == "WHERRY_SOPS_AGE_KEY")
        #expect(site?["verify"]?["allowed_signers_file"] == "/etc/wherry/secret/allowed-signers-site")
        let service = installed["services"]?.arrayValue?.last
        #expect(service?["decryption"]?["age_key_env"] == "WHERRY_SOPS_AGE_KEY")
        #expect(service?["decryption"]?["age_key_file"] == nil)

        let missing = try await CLI.run([
            "install", "--cluster-name", "home", "--config-file", config, "--dry-run", "--sops-age-key-file",
            work.path + "/none",
        ])
        #expect(missing.exitCode == 2 && missing.stderr.contains("--sops-age-key-file"))
    }

    @Test("install keeps a repository's and a service's age keys apart when they share a name")
    func installKeysPerOwner() async throws {
        let work = try TemporaryDirectory(prefix: "install")
        defer { work.remove() }
        try work.write("repo.txt", "AGE-SECRET-KEY-1REPOSITORYKEY\n")
        try work.write("service.txt", "AGE-SECRET-KEY-1SERVICEKEY\n")
        let config = try work.write(
            "gitops-config.yaml",
            """
            github_configs:
              site:
                url: https://git.example.com/site.git
                decryption: {provider: sops, age_key_file: repo.txt}
            services:
              - {name: site, github: site, k8s_yaml_dir: deploy, decryption: {provider: sops, age_key_file: service.txt}}
            """)
        let out = try await CLI.run(["install", "--cluster-name", "home", "--config-file", config, "--dry-run"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let objects = try ManifestReader.objects(from: out.stdout, file: "install.yaml")
        let data = try #require(objects.first { $0.kind == "Secret" }?.body["data"]?.objectValue)
        let text = try #require(
            objects.first { $0.kind == "ConfigMap" }?.body["data"]?.objectValue?.members.first?.value.stringValue)
        let installed = try YAMLReader.single(text, file: "config").json
        let repositoryFile = try #require(
            installed["github_configs"]?["site"]?["decryption"]?["age_key_file"]?.stringValue)
        let serviceFile = try #require(
            installed["services"]?.arrayValue?.first?["decryption"]?["age_key_file"]?.stringValue)
        #expect(repositoryFile != serviceFile)
        func stored(_ path: String) -> String? {
            let key = String(path.split(separator: "/").last ?? "")
            return data[key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        #expect(stored(repositoryFile) == "AGE-SECRET-KEY-1REPOSITORYKEY\n")
        #expect(stored(serviceFile) == "AGE-SECRET-KEY-1SERVICEKEY\n")
    }
}
