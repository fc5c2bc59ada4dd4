import WherryModel

/// Discovery documents: `/api`, `/apis`, `/apis/{group}`, `/api/v1` and `/apis/{group}/{version}`; and the
/// OpenAPI v3 documents kubectl reads before `apply --server-side` (`/openapi/v3`, then
/// `/openapi/v3/api/v1?hash=…`), reduced to what it reads there: each object path's `patch` operation and its
/// query parameters, among them `fieldValidation`, which tells kubectl to leave validation to the server, and the
/// `x-kubernetes-group-version-kind` it finds the operation by.
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

    /// `GET /openapi/v3`: one entry per served group version.
    var openAPIIndex: JSONValue {
        var paths = JSONObject()
        var versions: [String] = resources.filter { $0.group.isEmpty }.flatMap(\.versions).map { "api/\($0)" }
        for group in groups { versions += group.versions.map { "apis/\(group.name)/\($0)" } }
        for key in Set(versions).sorted() {
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(revision)")]
        }
        return ["paths": .object(paths)]
    }

    /// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    func openAPIDocument(groupVersion: String) throws(APIStatusError) -> JSONValue {
        let parts = groupVersion.split(separator: "/").map(String.init)
        let (group, version) =
            parts.first == "api" && parts.count == 2
            ? ("", parts[1]) : parts.count == 3 ? (parts[1], parts[2]) : ("", "")
        let served = resources.filter { $0.group == group && $0.versions.contains(version) }
        guard !served.isEmpty else { throw .unknownPath }
        let parameters: JSONValue = .array(
            ["dryRun", "fieldManager", "fieldValidation", "force"].map {
                ["name": .string($0), "in": "query", "schema": ["type": "string"]]
            })
        var paths = JSONObject()
        for resource in served {
            let prefix = "/" + groupVersion + (resource.namespaced ? "/namespaces/{namespace}" : "")
            // kubectl finds the operation by its group, version and kind.
            paths[prefix + "/\(resource.name)/{name}"] = [
                "patch": [
                    "parameters": parameters, "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": [
                        "group": .string(group), "version": .string(version), "kind": .string(resource.kind),
                    ],
                ]
            ]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.33.0-wherry-fake"],
            "paths": .object(paths),
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
        // The aggregator lists an APIService's group version although its server does not answer.
        for groupVersion in unavailableGroupVersions.sorted() {
            let group = String(groupVersion.prefix { $0 != "/" })
            if versions[group] == nil { order.append(group) }
            versions[group, default: []].insert(String(groupVersion.dropFirst(group.count + 1)))
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
