public import WherryModel

/// The part of an object that one field manager owns through server-side apply, read from
/// `metadata.managedFields` (`FieldsV1`), for deciding whether applying again would change anything.
///
/// Comparing whole objects is wrong on a real cluster: controllers write status, annotations
/// (`deployment.kubernetes.io/revision`) and defaults between any two reads, so a live copy and a dry-run answer
/// taken moments apart never match. What Wherry owns only changes when Wherry applies something different or when
/// someone else takes or changes one of its fields — exactly the cases that need a write.
public enum OwnedFields {
    /// The `FieldsV1` set of `manager`'s `Apply` entry on the main resource, or `nil` when it has none.
    public static func fieldSet(of object: JSONValue, manager: String) -> JSONValue? {
        for entry in object["metadata"]?["managedFields"]?.arrayValue ?? [] {
            guard entry["manager"]?.stringValue == manager, entry["operation"]?.stringValue == "Apply",
                (entry["subresource"]?.stringValue ?? "").isEmpty
            else { continue }
            return entry["fieldsV1"] ?? .object([:])
        }
        return nil
    }

    /// Whether `manager` owns the same fields with the same values in both objects. `false` when either object has
    /// no apply entry for `manager` (the object was written by someone else and must be adopted).
    public static func sameOwnedState(_ live: JSONValue, _ desired: JSONValue, manager: String) -> Bool {
        guard let liveFields = fieldSet(of: live, manager: manager),
            let desiredFields = fieldSet(of: desired, manager: manager), liveFields == desiredFields
        else { return false }
        return project(live, on: desiredFields) == project(desired, on: desiredFields)
    }

    /// Whether `live` holds every field and value of `desired` (Git's object, as it was applied), with `fields`
    /// the `FieldsV1` set the applier still owns in `live`: without a request, whether applying `desired` again would
    /// change nothing. Maps may hold more members and list items more fields (server defaults, other managers).
    /// A field of `desired` the applier no longer owns is not held: another manager changed it, and only a dry run
    /// can say what applying would do. That is what catches a key added by hand to an atomic map (a Service's
    /// selector): the map still holds Git's members, but the other manager took the whole map. Errs only towards
    /// "not held".
    public static func holds(_ live: JSONValue, _ desired: JSONValue, fields: JSONValue) -> Bool {
        holds(live, desired, fields: fields, atRoot: true)
    }

    private static func holds(_ live: JSONValue, _ desired: JSONValue, fields: JSONValue, atRoot: Bool) -> Bool {
        let members = (fields.objectValue?.members ?? []).filter { $0.key != "." }
        // Owned whole: an atomic map or list, or a scalar. Only its owner changes it, so it holds what was applied.
        if members.isEmpty { return live.contains(desired) }
        switch (live, desired) {
        case (.object(let liveObject), .object(let desiredObject)):
            for (key, value) in desiredObject.members {
                // Identity is no field anyone owns.
                if atRoot, ["apiVersion", "kind"].contains(key) { continue }
                guard let liveValue = liveObject[key] else { return false }
                if atRoot, key == "metadata" {
                    guard case .object(var metadata) = value else { return false }
                    metadata["name"] = nil
                    metadata["namespace"] = nil
                    if metadata.isEmpty { continue }
                    guard let owned = fields["f:metadata"],
                        holds(liveValue, .object(metadata), fields: owned, atRoot: false)
                    else { return false }
                    continue
                }
                guard let owned = fields["f:" + key], holds(liveValue, value, fields: owned, atRoot: false) else {
                    return false
                }
            }
            return true
        case (.array(let liveItems), .array(let desiredItems)):
            guard liveItems.count == desiredItems.count else { return false }
            for (index, (liveItem, desiredItem)) in zip(liveItems, desiredItems).enumerated() {
                guard let owned = itemFields(members, of: liveItem, at: index),
                    holds(liveItem, desiredItem, fields: owned, atRoot: false)
                else { return false }
            }
            return true
        default:
            return live.contains(desired)
        }
    }

    /// The `FieldsV1` entry of a list item: `k:{...}` naming its key fields (as the live item has them, with the
    /// server's defaults), `v:...` for a set item, or `i:N`.
    private static func itemFields(
        _ members: [(key: String, value: JSONValue)], of item: JSONValue, at index: Int
    ) -> JSONValue? {
        for (key, value) in members {
            let name = String(key.dropFirst(2))
            if key.hasPrefix("k:"), let keys = (try? JSONValue.parse(name))?.objectValue,
                keys.members.allSatisfy({ item[$0.key] == $0.value })
            {
                return value
            }
            if key.hasPrefix("v:"), (try? JSONValue.parse(name)) == item { return value }
            if key == "i:\(index)" { return value }
        }
        return nil
    }

    /// Stands in for a field the set names but the object lacks, so that "absent" never equals a real value.
    static let absent = JSONValue.string("\u{0}absent")

    /// The values of `value` at the fields of a `FieldsV1` set, as a tree keyed like the set: `f:name` for a map
    /// member, `k:{...}` for the list item with those key fields, `v:...` for a set item (true when present),
    /// `i:N` for a list position. A field with no members listed is taken whole.
    static func project(_ value: JSONValue?, on fields: JSONValue) -> JSONValue {
        let members = (fields.objectValue?.members ?? []).filter { $0.key != "." }
        guard !members.isEmpty else { return value ?? absent }
        guard let value else { return absent }
        var out = JSONObject()
        for (key, subfields) in members {
            out[key] = project(child(of: value, at: key), on: subfields)
        }
        return .object(out)
    }

    /// The member or list item a `FieldsV1` key names.
    private static func child(of value: JSONValue, at key: String) -> JSONValue? {
        let name = String(key.dropFirst(2))
        if key.hasPrefix("f:") { return value[name] }
        guard let items = value.arrayValue else { return nil }
        if key.hasPrefix("k:") {
            guard let keys = (try? JSONValue.parse(name))?.objectValue else { return nil }
            return items.first { item in keys.members.allSatisfy { item[$0.key] == $0.value } }
        }
        if key.hasPrefix("v:") {
            guard let wanted = try? JSONValue.parse(name) else { return nil }
            return items.contains(wanted) ? .bool(true) : nil
        }
        if key.hasPrefix("i:"), let index = Int(name), items.indices.contains(index) { return items[index] }
        // An encoding this reader does not know: compare the whole value, which errs towards writing.
        return value
    }
}
