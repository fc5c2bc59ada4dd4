public import WherryModel

extension ResourceManager {
    /// Appended to ``fieldManager`` for the manager that keeps fields Wherry leaves to others (`wherry-handover`).
    ///
    /// Server-side apply removes a field its last owner stops applying: had Wherry created a Deployment with
    /// `replicas: 3` and then applied it without replicas (ignored for an autoscaler), replicas would fall back to 1.
    /// So before Wherry stops applying a field it owns, this second manager applies the live value of that field,
    /// and owns it alongside: Kubernetes' documented way to hand a field over (server-side apply, "Transferring
    /// ownership"). Nothing changes in the object; the autoscaler's next write takes the field from it.
    public static let fieldHandoverSuffix = "-handover"

    /// The manager that keeps fields Wherry no longer applies.
    public var handoverManager: String { fieldManager + Self.fieldHandoverSuffix }

    /// Hands the fields at `pointers` that Wherry owns in `live` to ``handoverManager``, with their live values, so
    /// that an apply without them leaves them as they are. Nothing is sent when Wherry owns none of them.
    func handOver(_ pointers: [String], of item: PlannedObject, live: JSONValue) async throws(KubeAPIError) {
        guard let owned = OwnedFields.fieldSet(of: live, manager: fieldManager),
            let fields = Self.handoverFields(pointers, live: live, owned: owned)
        else { return }
        var body: JSONObject = [
            "apiVersion": .string(item.object.apiVersion), "kind": .string(item.object.kind),
        ]
        var metadata: JSONObject = ["name": .string(item.object.name)]
        if !item.object.namespace.isEmpty { metadata["namespace"] = .string(item.object.namespace) }
        body["metadata"] = .object(metadata)
        body = Self.merged(.object(body), .object(fields)).objectValue ?? body
        do {
            _ = try await api.apply(
                item.path, object: .object(body), options: ApplyOptions(fieldManager: handoverManager, force: false))
        } catch  where error.code == 409 {
            // Another manager changed a field since it was read, and so owns it now: it keeps its value anyway.
        }
    }

    /// The live values of the fields at `pointers` that `owned` (Wherry's `FieldsV1` set) covers, as a partial
    /// object that server-side apply can take: list items keep their key fields, atomic maps and lists go whole.
    /// `nil` when Wherry owns none of them.
    static func handoverFields(_ pointers: [String], live: JSONValue, owned: JSONValue) -> JSONObject? {
        var result: JSONValue?
        for pointer in pointers {
            let tokens = JSONValue.pointerTokens(pointer)
            guard !tokens.isEmpty, let part = extract(tokens[...], from: live, fields: owned) else { continue }
            result = result.map { merged($0, part) } ?? part
        }
        return result?.objectValue
    }

    /// The part of `value` on the way to `tokens`, as far as `fields` (the owner's set at this level) covers it.
    private static func extract(_ tokens: ArraySlice<String>, from value: JSONValue, fields: JSONValue) -> JSONValue? {
        let members = (fields.objectValue?.members ?? []).filter { $0.key != "." }
        // An atomic map or list on the way: owned, and applied whole.
        if members.isEmpty { return value }
        guard let token = tokens.first else { return ownedPart(of: value, fields: fields) }
        switch value {
        case .object(let object):
            guard let child = object[token], let subfields = fields["f:" + token],
                let part = extract(tokens.dropFirst(), from: child, fields: subfields)
            else { return nil }
            return .object([token: part])
        case .array(let items):
            guard let index = Int(token), items.indices.contains(index) else { return nil }
            let item = items[index]
            for (key, subfields) in members {
                let name = String(key.dropFirst(2))
                if key.hasPrefix("v:"), (try? JSONValue.parse(name)) == item { return .array([item]) }
                guard key.hasPrefix("k:"), let keys = (try? JSONValue.parse(name))?.objectValue,
                    keys.members.allSatisfy({ item[$0.key] == $0.value })
                else { continue }
                guard let part = extract(tokens.dropFirst(), from: item, fields: subfields) else { return nil }
                // The key fields tell the server which item this is.
                return .array([merged(.object(keys), part)])
            }
            // Not owned, or kept by position only (`i:`), which an apply cannot address.
            return nil
        default:
            return nil
        }
    }

    /// The members of a map that `fields` covers (not those of other managers); anything else whole.
    private static func ownedPart(of value: JSONValue, fields: JSONValue) -> JSONValue {
        let members = (fields.objectValue?.members ?? []).filter { $0.key != "." }
        guard case .object(let object) = value, !members.isEmpty else { return value }
        var part = JSONObject()
        for (key, child) in object.members {
            if let subfields = fields["f:" + key] { part[key] = ownedPart(of: child, fields: subfields) }
        }
        return .object(part)
    }

    /// Two partial objects together: maps merge; lists join, items with the same key fields merged into one.
    static func merged(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch (a, b) {
        case (.object(var left), .object(let right)):
            for (key, value) in right.members { left[key] = left[key].map { merged($0, value) } ?? value }
            return .object(left)
        case (.array(var left), .array(let right)):
            for item in right {
                if let index = left.firstIndex(where: { sameItem($0, item) }) {
                    left[index] = merged(left[index], item)
                } else {
                    left.append(item)
                }
            }
            return .array(left)
        default:
            return b
        }
    }

    /// Whether two partial list items name the same item: every scalar member they share is equal.
    private static func sameItem(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard case .object(let left) = a, case .object(let right) = b else { return a == b }
        let shared = left.members.filter { key, value in
            if case .object = value { return false }
            if case .array = value { return false }
            return right[key] != nil
        }
        return !shared.isEmpty && shared.allSatisfy { right[$0.key] == $0.value }
    }
}
