import Foundation
import Testing
import WherryModel
import WherryRender
import WherryTesting

/// The real `sops` decrypting files encrypted at test time for keys made with `age-keygen`.
@Suite("SOPS decryption with age")
struct SOPSDecryptorTests {
    static let plaintext = "s3cr3t-Pl41ntext-value-71"
    static let secret = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
          namespace: shop
        type: Opaque
        stringData:
          password: \(plaintext)
          user: admin

        """

    private func objects(_ yaml: String) throws -> [KubeObject] {
        try ManifestReader.objects(from: yaml, file: "k8s/secret.enc.yaml")
    }

    private func failure(_ body: () async throws -> Void) async -> RenderFailure? {
        await renderFailure(body)
    }

    @Test("an encrypted Secret decrypts in memory; its encrypted values are known for masking; others pass through")
    func decrypts() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let encrypted = try await key.encrypt(Self.secret)
        #expect(!encrypted.contains(Self.plaintext))
        let input = try objects(encrypted + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n")
        #expect(SOPSDecryptor.isEncrypted(input[0]) && !SOPSDecryptor.isEncrypted(input[1]))

        let result = try await SOPSDecryptor().decrypt(input, ageKey: Redacted(key.text), service: "shop")
        let secret = result.objects[0]
        #expect(secret.body["stringData"]?["password"]?.stringValue == Self.plaintext)
        #expect(secret.body["sops"] == nil)
        #expect(result.objects[1] == input[1])
        #expect(result.encryptedValues[secret.ref] == ["/stringData/password", "/stringData/user"])
        let masked = SecretMasking.masking(secret.body, at: result.encryptedValues[secret.ref] ?? [])
        #expect(masked["stringData"]?["password"]?.stringValue == "***")
        #expect(masked["metadata"]?["name"]?.stringValue == "db")
    }

    @Test("a whole-file encryption (identity too) decrypts")
    func wholeFile() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let input = try objects(try await key.encrypt(Self.secret, encryptedRegex: nil))
        #expect(input[0].kind.hasPrefix("ENC["))
        let result = try await SOPSDecryptor().decrypt(input, ageKey: Redacted(key.text), service: "shop")
        #expect(result.objects[0].ref.description == "Secret/shop/db")
    }

    @Test("a wrong key fails naming the file, the object and the recipients, without any plaintext")
    func wrongKey() async throws {
        let key = try await TestAgeKey()
        let other = try await TestAgeKey()
        defer {
            key.remove()
            other.remove()
        }
        let input = try objects(try await key.encrypt(Self.secret))
        let error = await failure {
            _ = try await SOPSDecryptor().decrypt(input, ageKey: Redacted(other.text), service: "shop")
        }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("k8s/secret.enc.yaml:"))
        #expect(text.contains("Secret/shop/db: cannot be decrypted: no age identity matches any recipient"))
        #expect(text.contains(key.recipient))
        #expect(!text.contains(Self.plaintext) && !text.contains("AGE-SECRET-KEY"))
    }

    @Test("no key configured: the service is told to add decryption")
    func noKey() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let input = try objects(try await key.encrypt(Self.secret))
        let error = await failure { _ = try await SOPSDecryptor().decrypt(input, ageKey: nil, service: "shop") }
        #expect(error?.description.contains("is SOPS-encrypted but service shop has no decryption key") == true)
    }

    @Test("a tampered value fails its authentication; a changed name fails with a MAC mismatch")
    func tampered() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let encrypted = try await key.encrypt(Self.secret)
        // Two encrypted values swapped: each still decrypts, the MAC over them does not match.
        var input = try objects(encrypted)
        let data = input[0].body["stringData"]?.objectValue
        var swapped = data ?? JSONObject()
        swapped["password"] = data?["user"]
        swapped["user"] = data?["password"]
        input[0].body["stringData"] = .object(swapped)
        let error = await failure {
            _ = try await SOPSDecryptor().decrypt(input, ageKey: Redacted(key.text), service: "shop")
        }
        #expect(
            error?.description.contains("Secret/shop/db: cannot be decrypted: an encrypted value was changed") == true)
        #expect(error?.description.contains(Self.plaintext) == false)

        let renamed = try objects(encrypted.replacing("name: db", with: "name: other"))
        let renameError = await failure {
            _ = try await SOPSDecryptor().decrypt(renamed, ageKey: Redacted(key.text), service: "shop")
        }
        #expect(renameError?.description.contains("Secret/shop/other: cannot be decrypted: MAC mismatch") == true)
    }

    @Test("sops missing from PATH is said plainly")
    func missingProgram() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let input = try objects(try await key.encrypt(Self.secret))
        let error = await failure {
            _ = try await SOPSDecryptor(sops: "/nonexistent/sops").decrypt(
                input, ageKey: Redacted(key.text), service: "shop")
        }
        #expect(error?.description.contains("install sops") == true)
    }

    @Test("diff masking marks which Secret keys changed and leaves other kinds alone")
    func diffMasking() {
        let live: JSONObject = [
            "apiVersion": "v1", "kind": "Secret", "data": ["a": "MQ==", "b": "Mg==", "gone": "eA=="],
        ]
        let desired: JSONObject = [
            "apiVersion": "v1", "kind": "Secret", "data": ["a": "MQ==", "b": "Mw==", "new": "eQ=="],
        ]
        let masked = SecretMasking.maskSecretPair(live: live, desired: desired)
        #expect(masked.live?["data"] == ["a": "***", "b": "*** (before)", "gone": "***"])
        #expect(masked.desired["data"] == ["a": "***", "b": "*** (after)", "new": "***"])
        let map: JSONObject = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["a": "1"]]
        #expect(SecretMasking.maskSecretPair(live: nil, desired: map).desired == map)
    }
}
