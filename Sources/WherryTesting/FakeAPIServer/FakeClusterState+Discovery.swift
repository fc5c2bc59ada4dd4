import WherryModel

/// Discovery documents: `/api`, `/apis`, `/apis/{group}`, `/api/v1` and `/apis/{group}/{version}`.
extension FakeClusterState {
    /// `GET /api`.
    var apiVersions: JSONValue {
        ["kind": "APIVersions", "versions": ["v1"]]
    }

    /// `GET /apis`: every group except the core one, built-ins first, with their versions, preferred first.
    var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups.map(Self.groupDocument))]
    }

    /// `GET /apis/{group}`.
    func group(_ name: String) throws(APIStatusError) -> JSONValue {
        guard let group = groups.first(where: { $0.name == name }) else { throw .unknownPath }
        var document = Self.groupDocument(group).objectValue!
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return .object(document)
    }

    /// `GET /api/v1` or `GET /apis/{group}/{version}`: the resources served there, each with its `status`
    /// subresource when it has one.
    func resourceList(group: String, version: String) throws(APIStatusError) -> JSONValue {
        let served = resources.filter { $0.group == group && $0.versions.contains(version) }
        guard !served.isEmpty else { throw .unknownPath }
        var entries: [JSONValue] = []
        for resource in served {
            var entry: JSONObject = [
                "name": .string(resource.name), "singularName": .string(resource.singularName),
                "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                "verbs": .array(resource.verbs.map(JSONValue.string)),
            ]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSONValue.string)) }
            entries.append(.object(entry))
            if resource.hasStatus {
                entries.append([
                    "name": .string(resource.name + "/status"), "singularName": "",
                    "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                    "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(served[0].apiVersion(version)),
            "resources": .array(entries),
        ]
    }

    /// The named groups with their versions, preferred first, in the order resources are served.
    private var groups: [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: Set<String>] = [:]
        for resource in resources where !resource.group.isEmpty {
            if versions[resource.group] == nil { order.append(resource.group) }
            versions[resource.group, default: []].formUnion(resource.versions)
        }
        return order.map { ($0, versions[$0]!.sorted(by: Self.versionPrecedes)) }
    }

    /// One group as `/apis` lists it.
    private static func groupDocument(_ group: (name: String, versions: [String])) -> JSONValue {
        let versions = group.versions.map { version -> JSONValue in
            ["groupVersion": .string("\(group.name)/\(version)"), "version": .string(version)]
        }
        return ["name": .string(group.name), "versions": .array(versions), "preferredVersion": versions[0]]
    }
}
