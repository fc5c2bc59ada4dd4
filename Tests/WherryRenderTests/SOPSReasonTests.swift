import Foundation
import Testing
import WherryModel
import WherryTesting

@testable import WherryRender

/// sops' failures put in one sentence, however sops wrapped its lines.
@Suite("SOPS failure reasons")
struct SOPSReasonTests {
    private let object = KubeObject(body: [
        "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"],
        "sops": ["age": [["recipient": "age1example"]], "mac": "ENC[…]"],
    ])

    private func isWrongKey(_ stderr: String) -> Bool {
        SOPSDecryptor.reason(stderr, object: object).hasPrefix("no age identity matches any recipient of the file")
    }

    @Test("a wrong key is recognised when sops wraps the phrase across its '| ' lines")
    func wrapped() {
        let stderr = """
            Failed to get the data key required to decrypt the SOPS file.

            Group 0: FAILED
              age1xqrfcsv3c5mfhvwz4ca6g3vee0qe0tn3lg7j24w5273rfu4tqvgsy0wwz7: FAILED
                - | failed to create reader for decrypting sops data key with
                  | age: identity did not match any of the
                  | recipients. Did not find keys in locations
            """
        #expect(isWrongKey(stderr))
    }

    @Test("age's own phrasings of a wrong key are recognised")
    func ageMessages() {
        #expect(isWrongKey("    - | failed: no identity matched any of the\n      | recipients\n"))
        #expect(isWrongKey("    - | age: incorrect identity for\n      | recipient block\n"))
        #expect(!isWrongKey("Error: cannot operate on non-existent file\n"))
    }

    @Test("a MAC mismatch split over lines is still a MAC mismatch")
    func macMismatch() {
        let reason = SOPSDecryptor.reason("Error decrypting tree: MAC\n  | mismatch. File has abc\n", object: object)
        #expect(reason.hasPrefix("MAC mismatch"), "\(reason)")
    }
}

/// What the sops child sees of Wherry's environment.
@Suite("SOPS child environment")
struct SOPSEnvironmentTests {
    @Test("sops gets only PATH, HOME, LC_ALL, the key and the decryption order, not Wherry's environment")
    func onlyItsOwnVariables() async throws {
        setenv("WHERRY_SOPS_CANARY_TOKEN", "inherited", 1)
        let directory = try TemporaryDirectory(prefix: "sops-double")
        defer { directory.remove() }
        // A test double for sops: it prints the names of the variables it was given, and fails.
        let double = try directory.write("sops", "#!/bin/sh\nenv | cut -d= -f1 | sort | tr '\\n' ' ' >&2\nexit 1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: double)
        let object = KubeObject(
            body: ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db"], "sops": ["mac": "ENC[…]"]],
            source: SourceLocation(file: "k8s/db.yaml", line: 1, column: 1))
        let failure = await renderFailure {
            _ = try await SOPSDecryptor(sops: double).decrypt(
                [object], ageKey: Redacted("AGE-SECRET-KEY-1TEST"), service: "shop")
        }
        let names = Set(
            (failure?.description ?? "").split(separator: "cannot be decrypted: ").last?.split(separator: " ")
                .map(String.init) ?? [])
        #expect(names.isSuperset(of: ["PATH", "HOME", "LC_ALL", "SOPS_AGE_KEY", "SOPS_DECRYPTION_ORDER"]), "\(names)")
        // What sh adds itself.
        #expect(names.subtracting(["PWD", "SHLVL", "_", "OLDPWD"]).count == 5, "\(names)")
        #expect(!names.contains("WHERRY_SOPS_CANARY_TOKEN"))
    }
}
