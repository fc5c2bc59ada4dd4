/// Hides secret values from output people read (`wherry diff`, `wherry render`), as `kubectl diff` does.
public enum SecretMasking {
    /// What a hidden value shows.
    public static let mask = "***"

    /// A Secret's live and desired copies with every value of `data` and `stringData` replaced by `***`, marking
    /// which keys changed (`*** (before)` / `*** (after)`), as `kubectl diff` has since 1.24. Other kinds come
    /// back unchanged.
    public static func maskSecretPair(
        live: JSONObject?, desired: JSONObject
    ) -> (live: JSONObject?, desired: JSONObject) {
        guard desired["kind"]?.stringValue == "Secret", desired["apiVersion"]?.stringValue == "v1" else {
            return (live, desired)
        }
        var live = live
        var desired = desired
        for field in ["data", "stringData"] {
            let old = live?[field]?.objectValue
            let new = desired[field]?.objectValue
            if var old {
                for (key, value) in old.members {
                    let changed = new.map { $0[key] != nil && $0[key] != value } ?? false
                    old[key] = .string(changed ? "\(mask) (before)" : mask)
                }
                live?[field] = .object(old)
            }
            if var new {
                for (key, value) in new.members {
                    let changed = old.map { $0[key] != nil && $0[key] != value } ?? false
                    new[key] = .string(changed ? "\(mask) (after)" : mask)
                }
                desired[field] = .object(new)
            }
        }
        return (live, desired)
    }

    /// The JSON pointers of the values SOPS encrypted in `encrypted` (strings `ENC[…]`), outside the `sops`
    /// metadata and the object's identity (`apiVersion`, `kind`, `metadata`), which are shown in logs anyway.
    public static func encryptedPointers(in encrypted: JSONObject) -> [String] {
        var pointers: [String] = []
        for (key, value) in encrypted.members where !["sops", "apiVersion", "kind", "metadata"].contains(key) {
            collect(value, pointer: "/" + escape(key), into: &pointers)
        }
        return pointers
    }

    private static func collect(_ value: JSONValue, pointer: String, into pointers: inout [String]) {
        switch value {
        case .string(let text) where text.hasPrefix("ENC["):
            pointers.append(pointer)
        case .object(let object):
            for (key, child) in object.members { collect(child, pointer: pointer + "/" + escape(key), into: &pointers) }
        case .array(let items):
            for (index, item) in items.enumerated() { collect(item, pointer: "\(pointer)/\(index)", into: &pointers) }
        default:
            break
        }
    }

    /// `body` with the value at each of `pointers` (that exists) replaced by `***`.
    public static func masking(_ body: JSONObject, at pointers: [String]) -> JSONObject {
        var value = JSONValue.object(body)
        for pointer in pointers { value = value.replacing(tokens: JSONValue.pointerTokens(pointer)[...]) }
        return value.objectValue ?? body
    }

    private static func escape(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

extension JSONValue {
    /// The value with what `tokens` name replaced by ``SecretMasking/mask``; unchanged when they name nothing.
    fileprivate func replacing(tokens: ArraySlice<String>) -> JSONValue {
        guard let token = tokens.first else { return .string(SecretMasking.mask) }
        switch self {
        case .object(var object):
            guard let child = object[token] else { return self }
            object[token] = child.replacing(tokens: tokens.dropFirst())
            return .object(object)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { return self }
            items[index] = items[index].replacing(tokens: tokens.dropFirst())
            return .array(items)
        default:
            return self
        }
    }
}
