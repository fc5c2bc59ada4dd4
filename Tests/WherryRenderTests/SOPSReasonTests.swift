import Testing
import WherryModel

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
