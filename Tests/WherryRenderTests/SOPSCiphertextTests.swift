import Foundation
import Testing
import WherryModel
import WherryRender
import WherryTesting

/// Ciphertext that sops cannot decrypt fails the render instead of reaching the cluster.
@Suite("SOPS ciphertext left after decryption")
struct SOPSCiphertextTests {
    private func failure(_ yaml: String, key: String? = nil) async -> RenderFailure? {
        await renderFailure {
            let objects = try ManifestReader.objects(from: yaml, file: "k8s/app.yaml")
            _ = try await SOPSDecryptor().decrypt(objects, ageKey: key.map { Redacted($0) }, service: "shop")
        }
    }

    @Test("a value sops encrypted, copied without its file's sops: metadata, fails naming file, object and field")
    func strayValue() async {
        let error = await failure(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app, namespace: shop}
            data:
              token: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]
              plain: hello
            """)
        let text = error?.description ?? ""
        #expect(text.contains("k8s/app.yaml:1:1"), "\(text)")
        #expect(text.contains("ConfigMap/shop/app") && text.contains("/data/token") && !text.contains("/data/plain"))
    }

    @Test("a Secret generated from an encrypted env file (sops_mac in its data) fails naming the generator")
    func generatedFromEncryptedEnv() async {
        let encrypted = Data("ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]".utf8).base64EncodedString()
        let error = await failure(
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: db-5c7k, namespace: shop}
            data:
              password: \(encrypted)
              sops_mac: \(encrypted)
              sops_version: My4xMS4w
            """)
        let text = error?.description ?? ""
        #expect(text.contains("Secret/shop/db-5c7k") && text.contains("secretGenerator"), "\(text)")
        #expect(text.contains("data.sops_mac"))
    }

    @Test("base64 of ciphertext in a Secret's data fails too")
    func base64Ciphertext() async {
        let encrypted = Data("ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]".utf8).base64EncodedString()
        let error = await failure(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: \(encrypted)}\n")
        #expect(error?.description.contains("/data/password") == true)
    }

    @Test("a top-level sops: map without a mac fails instead of being applied as it is")
    func sopsWithoutMac() async {
        let error = await failure(
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: db, namespace: shop}
            stringData: {password: hunter2}
            sops: {version: 3.11.0}
            """)
        let text = error?.description ?? ""
        #expect(text.contains("Secret/shop/db") && text.contains("without a mac"), "\(text)")
        #expect(!text.contains("hunter2"))
    }

    @Test("a multi-document file encrypted at once says so, not MAC mismatch")
    func multiDocument() async throws {
        let key = try await TestAgeKey()
        defer { key.remove() }
        let two = """
            apiVersion: v1
            kind: Secret
            metadata: {name: a, namespace: shop}
            stringData: {p: first-plain}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: b, namespace: shop}
            stringData: {p: second-plain}

            """
        let error = await failure(try await key.encrypt(two), key: key.text)
        let text = error?.description ?? ""
        #expect(text.contains("k8s/app.yaml:1:1") && text.contains("2 documents"), "\(text)")
        #expect(text.contains("a file of its own") && !text.contains("MAC mismatch"))
        #expect(error?.issues.count == 1)
    }

    @Test("plain objects with ordinary values pass")
    func plainPasses() async {
        #expect(await failure("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: ENC-like}\n") == nil)
    }
}

/// The render failure `body` throws; records anything else it throws.
func renderFailure(_ body: () async throws -> Void) async -> RenderFailure? {
    do {
        try await body()
        return nil
    } catch let error as RenderFailure {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
