import WherryModel

/// CustomResourceDefinitions: their status, their validation, and the resources they register.
extension FakeClusterState {
    /// The resources of established CRDs (not those being deleted).
    var customResources: [APIResource] {
        let crd = APIResource.customResourceDefinitions
        return keys(of: crd, namespace: nil).compactMap { key in
            guard let stored = objects[key], !stored.isDeleting, Self.isEstablished(stored.body) else { return nil }
            return Self.resource(definedBy: stored.body)
        }
    }

    /// Whether a CRD carries the condition `Established=True`.
    static func isEstablished(_ crd: JSONObject) -> Bool {
        let conditions = crd.value(at: ["status", "conditions"])?.arrayValue ?? []
        return conditions.contains { $0["type"] == "Established" && $0["status"] == "True" }
    }

    /// The resource a CRD defines, or `nil` when it defines none that can be served.
    static func resource(definedBy crd: JSONObject) -> APIResource? {
        guard let group = crd.value(at: ["spec", "group"])?.stringValue,
            let plural = crd.value(at: ["spec", "names", "plural"])?.stringValue,
            let kind = crd.value(at: ["spec", "names", "kind"])?.stringValue
        else { return nil }
        let versions = crd.value(at: ["spec", "versions"])?.arrayValue ?? []
        let served = versions.filter { $0["served"] != false }.compactMap { $0["name"]?.stringValue }
        guard !served.isEmpty else { return nil }
        return APIResource(
            group: group, versions: served.sorted(by: versionPrecedes), name: plural,
            singularName: crd.value(at: ["spec", "names", "singular"])?.stringValue ?? kind.lowercased(), kind: kind,
            namespaced: crd.value(at: ["spec", "scope"])?.stringValue != "Cluster",
            shortNames: crd.value(at: ["spec", "names", "shortNames"])?.arrayValue?.compactMap(\.stringValue) ?? [],
            hasStatus: versions.contains { $0["subresources"]?["status"] != nil }, isCustom: true)
    }

    /// Sets a CRD's status to established, as the apiextensions controllers do, with a new resourceVersion.
    mutating func establishCRD(named name: String) {
        let key = StoredObject.Key(
            group: APIResource.customResourceDefinitions.group, resource: APIResource.customResourceDefinitions.name,
            namespace: "", name: name)
        guard var stored = objects[key] else { return }
        stored.body["status"] = .object(Self.crdStatus(stored.body, established: true))
        stored.body.setValue(.string(nextResourceVersion()), at: ["metadata", "resourceVersion"])
        objects[key] = stored
    }

    /// A CRD's status: accepted names, stored versions and, once established, the two conditions.
    static func crdStatus(_ crd: JSONObject, established: Bool) -> JSONObject {
        var status = crd["status"]?.objectValue ?? JSONObject()
        let versions = crd.value(at: ["spec", "versions"])?.arrayValue ?? []
        let storage = versions.filter { $0["storage"] == true }.compactMap { $0["name"]?.stringValue }
        status["storedVersions"] = .array(storage.map(JSONValue.string))
        guard established else { return status }
        var names = crd.value(at: ["spec", "names"])?.objectValue ?? JSONObject()
        if let kind = names["kind"]?.stringValue {
            if names["singular"] == nil { names["singular"] = .string(kind.lowercased()) }
            if names["listKind"] == nil { names["listKind"] = .string(kind + "List") }
        }
        status["acceptedNames"] = .object(names)
        let now = JSONValue.string(timestamp())
        status["conditions"] = [
            [
                "type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            ],
            [
                "type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
                "message": "no conflicts found",
            ],
        ]
        return status
    }

    /// What the API server rejects in a CRD: a name other than `<plural>.<group>`, missing names, no versions.
    static func crdCauses(_ crd: JSONObject) -> [JSONValue] {
        var causes: [JSONValue] = []
        let group = crd.value(at: ["spec", "group"])?.stringValue ?? ""
        let plural = crd.value(at: ["spec", "names", "plural"])?.stringValue ?? ""
        let name = crd.value(at: ["metadata", "name"])?.stringValue ?? ""
        if group.isEmpty || !group.contains(".") {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(group)\": should be a domain with at least one dot",
                    field: "spec.group"))
        }
        if plural.isEmpty {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueRequired", message: "Required value", field: "spec.names.plural"))
        } else if name != "\(plural).\(group)" {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group",
                    field: "metadata.name"))
        }
        if crd.value(at: ["spec", "names", "kind"])?.stringValue?.isEmpty ?? true {
            causes.append(
                APIStatusError.cause(reason: "FieldValueRequired", message: "Required value", field: "spec.names.kind"))
        }
        let scope = crd.value(at: ["spec", "scope"])?.stringValue ?? ""
        if scope != "Namespaced", scope != "Cluster" {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueNotSupported",
                    message: "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\"",
                    field: "spec.scope"))
        }
        let versions = crd.value(at: ["spec", "versions"])?.arrayValue ?? []
        if versions.filter({ $0["storage"] == true }).count != 1 {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: must have exactly one version marked as storage version",
                    field: "spec.versions"))
        }
        return causes
    }

    /// Kubernetes version priority: GA before beta before alpha, higher numbers first (`v2`, `v1`, `v1beta1`).
    static func versionPrecedes(_ lhs: String, _ rhs: String) -> Bool {
        switch (versionRank(lhs), versionRank(rhs)) {
        case (let left?, let right?): left != right ? right.lexicographicallyPrecedes(left) : lhs < rhs
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): lhs < rhs
        }
    }

    /// `(stability, major, minor)` of `v1`, `v2beta1`, `v1alpha3`; `nil` for other names.
    private static func versionRank(_ version: String) -> [Int]? {
        guard version.hasPrefix("v") else { return nil }
        let rest = version.dropFirst()
        let digits = rest.prefix { $0.isNumber }
        guard let major = Int(digits) else { return nil }
        let suffix = rest.dropFirst(digits.count)
        if suffix.isEmpty { return [3, major, 0] }
        for (word, stability) in [("beta", 2), ("alpha", 1)] where suffix.hasPrefix(word) {
            guard let minor = Int(suffix.dropFirst(word.count)) else { return nil }
            return [stability, major, minor]
        }
        return nil
    }
}
