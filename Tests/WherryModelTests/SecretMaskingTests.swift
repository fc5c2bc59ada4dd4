import Testing
import WherryModel

/// What `wherry diff` shows of values that must stay hidden.
@Suite("Secret masking in diffs")
struct SecretMaskingTests {
    @Test("values decrypted from SOPS are masked on both sides of a diff, whatever the kind, marking what changed")
    func encryptedValuesOfAnyKind() {
        let live: JSONObject = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "app"],
            "data": ["token": "old-plain-token", "same": "same-plain", "shown": "visible"],
        ]
        let desired: JSONObject = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "app"],
            "data": ["token": "new-plain-token", "same": "same-plain", "shown": "visible"],
        ]
        let masked = SecretMasking.maskDiffPair(
            live: live, desired: desired, encrypted: ["/data/token", "/data/same"])
        #expect(masked.live?["data"] == ["token": "*** (before)", "same": "***", "shown": "visible"])
        #expect(masked.desired["data"] == ["token": "*** (after)", "same": "***", "shown": "visible"])
    }

    @Test("a Secret's last-applied annotation (its values in clear) is masked on both sides")
    func lastApplied() {
        let annotation = #"{"apiVersion":"v1","kind":"Secret","stringData":{"password":"plain-pw"}}"#
        let live: JSONObject = [
            "apiVersion": "v1", "kind": "Secret",
            "metadata": ["name": "db", "annotations": [SecretMasking.lastAppliedAnnotation: .string(annotation)]],
            "data": ["password": "cGxhaW4tcHc="],
        ]
        let masked = SecretMasking.maskDiffPair(live: live, desired: live, encrypted: [])
        for side in [masked.live, masked.desired] {
            #expect(side?["metadata"]?["annotations"]?[SecretMasking.lastAppliedAnnotation]?.stringValue == "***")
            #expect(side?["data"]?["password"]?.stringValue == "***")
        }
    }
}
