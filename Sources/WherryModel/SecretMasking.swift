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

    /// The annotation `kubectl apply` keeps a copy of the whole object in: on a Secret, its values in clear.
    public static let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

    /// Both sides of a diff as people may read them: Secret values masked as ``maskSecretPair(live:desired:)``
    /// does, a Secret's last-applied annotation masked, and the values at `encrypted` (the pointers of values
    /// decrypted from SOPS, on any kind) masked on both sides, marking which changed.
    public static func maskDiffPair(
        live: JSONObject?, desired: JSONObject, encrypted pointers: [String]
    ) -> (live: JSONObject?, desired: JSONObject) {
        var (maskedLive, maskedDesired) = maskSecretPair(live: live, desired: desired)
        for pointer in pointers {
            let tokens = JSONValue.pointerTokens(pointer)[...]
            let old = live.flatMap { JSONValue.object($0).value(at: tokens) }
            let new = JSONValue.object(desired).value(at: tokens)
            let changed = old != nil && new != nil && old != new
            maskedLive = maskedLive.map { masking($0, at: [pointer], as: changed ? "\(mask) (before)" : mask) }
            maskedDesired = masking(maskedDesired, at: [pointer], as: changed ? "\(mask) (after)" : mask)
        }
        let annotation = "/metadata/annotations/" + escape(lastAppliedAnnotation)
        if desired["kind"]?.stringValue == "Secret" || live?["kind"]?.stringValue == "Secret" {
            maskedLive = maskedLive.map { masking($0, at: [annotation]) }
            maskedDesired = masking(maskedDesired, at: [annotation])
        }
        return (maskedLive, maskedDesired)
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

    /// `body` with the value at each of `pointers` (that exists) replaced by `shown` (`***`).
    public static func masking(_ body: JSONObject, at pointers: [String], as shown: String = mask) -> JSONObject {
        var value = JSONValue.object(body)
        for pointer in pointers {
            value = value.replacing(tokens: JSONValue.pointerTokens(pointer)[...], with: shown)
        }
        return value.objectValue ?? body
    }

    private static func escape(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

extension JSONValue {
    /// The value with what `tokens` name replaced by `shown`; unchanged when they name nothing.
    fileprivate func replacing(tokens: ArraySlice<String>, with shown: String) -> JSONValue {
        guard let token = tokens.first else { return .string(shown) }
        switch self {
        case .object(var object):
            guard let child = object[token] else { return self }
            object[token] = child.replacing(tokens: tokens.dropFirst(), with: shown)
            return .object(object)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { return self }
            items[index] = items[index].replacing(tokens: tokens.dropFirst(), with: shown)
            return .array(items)
        default:
            return self
        }
    }

    /// The value `tokens` name, if any.
    fileprivate func value(at tokens: ArraySlice<String>) -> JSONValue? {
        guard let token = tokens.first else { return self }
        switch self {
        case .object(let object): return object[token]?.value(at: tokens.dropFirst())
        case .array(let items):
            guard let index = Int(token), items.indices.contains(index) else { return nil }
            return items[index].value(at: tokens.dropFirst())
        default: return nil
        }
    }
}
