import Foundation
public import WherryModel

extension SOPSDecryptor {
    /// What marks a value sops encrypted (with its AES-GCM cipher, the only one it writes).
    static let ciphertextPrefix = "ENC[AES256_GCM,"

    /// Fails on what would otherwise reach the cluster as ciphertext after decryption: values still
    /// `ENC[AES256_GCM,…]` (also base64-encoded in a Secret's `data`), a Secret whose keys are sops' metadata
    /// (`sops_mac`, `sops_version`: a kustomize generator read an encrypted env file), and a top-level `sops` map
    /// without a `mac` (not something sops can decrypt). Each issue names the file and the object.
    public static func rejectCiphertext(_ objects: [KubeObject]) throws(RenderFailure) {
        var issues: [RenderIssue] = []
        for object in objects {
            if let sops = object.body["sops"], sops.objectValue?["mac"] == nil {
                issues.append(
                    issue(
                        object,
                        "has a top-level sops: key without a mac, so it is not a file sops encrypted and cannot be "
                            + "decrypted; encrypt the plaintext again with sops --encrypt instead of editing the "
                            + "sops: block"))
                continue
            }
            if object.kind == "Secret", object.apiVersion == "v1", let fields = generatedFromEncryptedEnv(object) {
                issues.append(
                    issue(
                        object,
                        "holds sops metadata (\(fields)): a kustomize secretGenerator read a SOPS-encrypted env "
                            + "file, which Wherry does not decrypt; write the Secret as a manifest and encrypt that "
                            + "with sops --encrypted-regex '^(data|stringData)$' --mac-only-encrypted"))
                continue
            }
            var pointers: [String] = []
            for (key, value) in object.body.members where key != "sops" {
                collectCiphertext(value, pointer: "/" + key, secretData: object.kind == "Secret", into: &pointers)
            }
            guard !pointers.isEmpty else { continue }
            let shown = pointers.prefix(3).joined(separator: ", ") + (pointers.count > 3 ? ", …" : "")
            issues.append(
                issue(
                    object,
                    "holds values sops encrypted that were not decrypted (\(shown)): they lost the sops: metadata "
                        + "of their file (copied by a kustomize patch, a generator or by hand); keep encrypted values "
                        + "only in manifests sops encrypted, with their sops: key"))
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
    }

    /// The sops metadata keys in a Secret's `data` or `stringData` (`data.sops_mac, …`), if it has any.
    private static func generatedFromEncryptedEnv(_ object: KubeObject) -> String? {
        var found: [String] = []
        for field in ["data", "stringData"] {
            for key in object.body[field]?.objectValue?.keys ?? []
            where key == "sops_mac" || key == "sops_version" {
                found.append("\(field).\(key)")
            }
        }
        return found.isEmpty ? nil : found.joined(separator: ", ")
    }

    private static func collectCiphertext(
        _ value: JSONValue, pointer: String, secretData: Bool, into pointers: inout [String]
    ) {
        switch value {
        case .string(let text):
            let decoded =
                secretData && pointer.hasPrefix("/data/")
                ? Data(base64Encoded: text).flatMap { String(data: $0, encoding: .utf8) } : nil
            if text.hasPrefix(ciphertextPrefix) || decoded?.hasPrefix(ciphertextPrefix) == true {
                pointers.append(pointer)
            }
        case .object(let object):
            for (key, child) in object.members {
                let escaped = key.replacing("~", with: "~0").replacing("/", with: "~1")
                collectCiphertext(child, pointer: pointer + "/" + escaped, secretData: secretData, into: &pointers)
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                collectCiphertext(item, pointer: "\(pointer)/\(index)", secretData: secretData, into: &pointers)
            }
        default:
            break
        }
    }

    /// An issue about `object` at its file; a whole-file encryption hides the identity too: then only the file
    /// is named.
    static func issue(_ object: KubeObject, _ message: String) -> RenderIssue {
        let identity = [object.kind, object.name].contains { $0.hasPrefix("ENC[") } ? nil : object.ref.description
        return RenderIssue(location: object.source, object: identity, message: message)
    }
}
