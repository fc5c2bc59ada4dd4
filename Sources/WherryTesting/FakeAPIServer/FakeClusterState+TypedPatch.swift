import WherryModel

/// Type checks of applied values, answered the way a real API server answers them: server-side apply builds a
/// typed patch from the object's schema first, and a value of the wrong type (or, for a custom resource with a
/// structural schema, an undeclared field) fails there with HTTP 500, no `reason`, and the message
/// `failed to create typed patch object (ns/name; group/version, Kind=K): .path: problem` (several problems are
/// listed after `errors:`, one per line).
extension FakeClusterState {
    /// The problems of an applied object against its schema; empty when it type-checks.
    func typedPatchProblems(_ applied: JSONObject, resource: APIResource, version: String) -> [String] {
        var problems: [String] = []
        if resource.isCustom {
            guard let schema = customResourceSchema(resource, version: version) else { return [] }
            for (key, value) in applied.members where !["apiVersion", "kind", "metadata"].contains(key) {
                if let child = schema["properties"]?[key] {
                    Self.check(value, schema: child, path: ".\(key)", strict: true, into: &problems)
                } else if schema["x-kubernetes-preserve-unknown-fields"] != .bool(true), schema["properties"] != nil {
                    problems.append(".\(key): field not declared in schema")
                }
            }
        } else {
            // The real server's built-in schemas declare every field: an unknown one at the top fails too.
            if let known = Self.builtinTopLevelFields["\(resource.group)/\(resource.name)"] {
                for key in applied.keys where !known.contains(key) {
                    problems.append(".\(key): field not declared in schema")
                }
            }
            if let schema = Self.builtinSchemas["\(resource.group)/\(resource.name)"] {
                Self.check(.object(applied), schema: schema, path: "", strict: false, into: &problems)
            }
        }
        return problems
    }

    /// The 500 a real API server answers for those problems.
    static func typedPatchError(
        _ problems: [String], resource: APIResource, version: String, namespace: String?, name: String
    ) -> APIStatusError {
        let gv = resource.group.isEmpty ? "/\(version)" : "\(resource.group)/\(version)"
        let detail = problems.count == 1 ? problems[0] : "errors:\n  " + problems.joined(separator: "\n  ")
        return APIStatusError(
            code: 500, reason: "",
            message: "failed to create typed patch object (\(namespace ?? "")/\(name); \(gv), Kind=\(resource.kind)): "
                + detail)
    }

    /// The top-level fields of some built-in kinds, as their schemas declare them (deeper levels are not checked).
    static let builtinTopLevelFields: [String: Set<String>] = {
        let workload: Set<String> = ["apiVersion", "kind", "metadata", "spec", "status"]
        return [
            "/configmaps": ["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"],
            "/secrets": ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"],
            "/services": workload, "/namespaces": workload, "apps/deployments": workload,
            "apps/statefulsets": workload, "apps/daemonsets": workload, "batch/jobs": workload,
        ]
    }()

    /// The parts of built-in schemas the fake checks: types only, unknown fields allowed.
    static let builtinSchemas: [String: JSONValue] = {
        let replicas: JSONValue = ["properties": ["spec": ["properties": ["replicas": ["type": "integer"]]]]]
        return [
            "apps/deployments": replicas, "apps/statefulsets": replicas, "apps/replicasets": replicas,
            "/configmaps": ["properties": ["data": ["type": "object", "additionalProperties": ["type": "string"]]]],
        ]
    }()

    /// The `openAPIV3Schema` of a custom resource's version, from its CRD.
    private func customResourceSchema(_ resource: APIResource, version: String) -> JSONValue? {
        let crd = APIResource.customResourceDefinitions
        let key = StoredObject.Key(
            group: crd.group, resource: crd.name, namespace: "", name: "\(resource.name).\(resource.group)")
        let versions = objects[key]?.body.value(at: ["spec", "versions"])?.arrayValue ?? []
        return versions.first { $0["name"]?.stringValue == version }?["schema"]?["openAPIV3Schema"]
    }

    /// Checks one value against an OpenAPI v3 schema, as structured-merge-diff does when it builds a typed patch.
    private static func check(
        _ value: JSONValue, schema: JSONValue, path: String, strict: Bool, into problems: inout [String]
    ) {
        if value == .null { return }
        if schema["x-kubernetes-int-or-string"] == .bool(true) {
            switch value {
            case .int, .string: return
            default: problems.append("\(path): expected string or numeric, got \(typeName(value))")
            }
            return
        }
        switch schema["type"]?.stringValue {
        case "integer":
            if case .int = value { return }
            problems.append("\(path): expected numeric (int or float), got \(typeName(value))")
        case "number":
            switch value {
            case .int, .double: return
            default: problems.append("\(path): expected numeric (int or float), got \(typeName(value))")
            }
        case "string":
            if case .string = value { return }
            problems.append("\(path): expected string, got &value.valueUnstructured{Value:\(value.jsonString())}")
        case "boolean":
            if case .bool = value { return }
            problems.append("\(path): expected boolean, got \(typeName(value))")
        case "array":
            guard case .array(let items) = value else {
                problems.append("\(path): expected list, got \(typeName(value))")
                return
            }
            guard let itemSchema = schema["items"] else { return }
            for (index, item) in items.enumerated() {
                check(item, schema: itemSchema, path: "\(path)[\(index)]", strict: strict, into: &problems)
            }
        default:
            guard case .object(let object) = value else {
                if schema["type"]?.stringValue == "object" {
                    problems.append("\(path): expected map, got \(typeName(value))")
                }
                return
            }
            let properties = schema["properties"]?.objectValue
            let additional = schema["additionalProperties"]
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == .bool(true)
            for (key, child) in object.members {
                if let childSchema = properties?[key] {
                    check(child, schema: childSchema, path: "\(path).\(key)", strict: strict, into: &problems)
                } else if let additional, additional.objectValue != nil {
                    check(child, schema: additional, path: "\(path).\(key)", strict: strict, into: &problems)
                } else if strict, !preserve, properties != nil {
                    problems.append("\(path).\(key): field not declared in schema")
                }
            }
        }
    }

    private static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .string: "string"
        case .int, .double: "numeric"
        case .bool: "boolean"
        case .array: "list"
        case .object: "map"
        case .null: "null"
        }
    }
}
