import Foundation
import WherryModel

/// `GET` of a collection: label and field selectors, `limit` and `continue`.
extension FakeClusterState {
    /// A `<Kind>List` sorted by namespace and name. As the real server does for built-in types, items of built-in
    /// resources carry no `apiVersion` and `kind`; custom resources keep theirs.
    func list(_ target: ResourceTarget, query: [String: String]) throws(APIStatusError) -> JSONValue {
        let selector = try LabelSelector(parsing: query["labelSelector"] ?? "")
        let fields = try Self.fieldRequirements(query["fieldSelector"] ?? "")
        var keys = keys(of: target.resource, namespace: target.namespace).filter { key in
            selector.matches(objects[key]!.labels)
                && fields.allSatisfy { field, value, equal in
                    (field == "metadata.name" ? key.name : key.namespace) == value ? equal : !equal
                }
        }
        if let token = query["continue"], !token.isEmpty {
            let start = try Self.decodeContinue(token)
            keys = keys.filter { ($0.namespace, $0.name) > start }
        }
        var metadata: JSONObject = ["resourceVersion": .string(String(revision))]
        if let text = query["limit"], !text.isEmpty {
            guard let limit = Int(text), limit >= 0 else { throw .badRequest("invalid limit: \"\(text)\"") }
            if limit > 0, keys.count > limit {
                let last = keys[limit - 1]
                metadata["continue"] = .string(encodeContinue(namespace: last.namespace, name: last.name))
                metadata["remainingItemCount"] = .int(Int64(keys.count - limit))
                keys = Array(keys.prefix(limit))
            }
        }
        let items = keys.map { key -> JSONValue in
            var item = objects[key]!.rendered(apiVersion: target.apiVersion)
            if !target.resource.isCustom {
                item["apiVersion"] = nil
                item["kind"] = nil
            }
            return item
        }
        return [
            "kind": .string(target.resource.kind + "List"), "apiVersion": .string(target.apiVersion),
            "metadata": .object(metadata), "items": .array(items),
        ]
    }

    /// An opaque continue token: base64 of where the next page starts, like the real server's.
    private func encodeContinue(namespace: String, name: String) -> String {
        let token: JSONValue = [
            "v": "meta.k8s.io/v1", "rv": .int(Int64(revision)), "start": .string("\(namespace)/\(name)"),
        ]
        return Data(token.jsonString().utf8).base64EncodedString()
    }

    /// The `(namespace, name)` a continue token resumes after.
    private static func decodeContinue(_ token: String) throws(APIStatusError) -> (String, String) {
        guard let data = Data(base64Encoded: token), let value = try? JSONValue.parse(Array(data)),
            let start = value["start"]?.stringValue, let slash = start.firstIndex(of: "/")
        else { throw .badRequest("continue key is not valid: \"\(token)\"") }
        return (String(start[..<slash]), String(start[start.index(after: slash)...]))
    }

    /// `metadata.name` and `metadata.namespace` requirements (`=`, `==`, `!=`), the field selectors every
    /// resource supports.
    private static func fieldRequirements(
        _ text: String
    ) throws(APIStatusError)
        -> [(field: String, value: String, equal: Bool)]
    {
        var requirements: [(field: String, value: String, equal: Bool)] = []
        for part in text.split(separator: ",") {
            let part = part.trimmed
            let (separator, equal) =
                part.contains("!=") ? ("!=", false) : part.contains("==") ? ("==", true) : ("=", true)
            guard let range = part.range(of: separator) else {
                throw .badRequest("invalid field selector: \"\(text)\"")
            }
            let field = String(part[..<range.lowerBound].trimmed)
            guard field == "metadata.name" || field == "metadata.namespace" else {
                throw .badRequest(
                    "field label not supported: \(field) (this test double supports metadata.name and "
                        + "metadata.namespace)")
            }
            requirements.append((field, String(part[range.upperBound...].trimmed), equal))
        }
        return requirements
    }
}
