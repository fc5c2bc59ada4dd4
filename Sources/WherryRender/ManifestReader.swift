public import WherryModel

/// Turns manifest text (multi-document YAML or JSON) into validated Kubernetes objects.
public enum ManifestReader {
    /// Reads every object in `text`. Empty documents are skipped; `kind: List` documents are expanded.
    /// All problems in the text are reported together.
    public static func objects(from text: String, file: String) throws(RenderFailure) -> [KubeObject] {
        let documents: [YAMLValue?]
        do {
            documents = try YAMLReader.documents(text, file: file)
        } catch {
            throw RenderFailure(RenderIssue(location: error.location, message: error.message))
        }
        var objects: [KubeObject] = []
        var issues: [RenderIssue] = []
        for (index, document) in documents.enumerated() {
            guard let document else { continue }
            collect(document, label: "document \(index + 1)", into: &objects, issues: &issues)
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
        return objects
    }

    private static func collect(
        _ value: YAMLValue, label: String, into objects: inout [KubeObject], issues: inout [RenderIssue]
    ) {
        let problems = validate(value)
        guard problems.isEmpty else {
            issues += problems.map { RenderIssue(location: $0.0, message: "\(label): \($0.1)") }
            return
        }
        let kind = value["kind"]?.json.stringValue ?? ""
        if isList(value) {
            guard case .sequence(let items)? = value["items"]?.content else {
                issues.append(
                    RenderIssue(location: value.location, message: "\(label): a \(kind) needs 'items', a list"))
                return
            }
            for (index, item) in items.enumerated() {
                collect(item, label: "\(label), item \(index + 1)", into: &objects, issues: &issues)
            }
            return
        }
        guard case .object(let body) = value.json else { return }
        objects.append(KubeObject(body: body, source: value.location))
    }

    /// A `List` (or `<Kind>List`) wrapping items, rather than an object that happens to have an `items` field.
    static func isList(_ value: YAMLValue) -> Bool {
        let kind = value["kind"]?.json.stringValue ?? ""
        return kind == "List" || (kind.hasSuffix("List") && value["items"] != nil && value["metadata"]?["name"] == nil)
    }

    /// Required fields of any object: apiVersion, kind, metadata.name (Lists need only apiVersion and kind).
    static func validate(_ value: YAMLValue) -> [(SourceLocation, String)] {
        guard value.entries != nil else {
            return [
                (
                    value.location,
                    "expected a Kubernetes object (a map with apiVersion, kind and metadata), found \(value.typeDescription)"
                )
            ]
        }
        var problems: [(SourceLocation, String)] = []
        for key in ["apiVersion", "kind"] {
            guard let field = value[key] else {
                problems.append((value.location, "missing '\(key)'; every Kubernetes object needs apiVersion and kind"))
                continue
            }
            if field.json.stringValue?.isEmpty ?? true {
                problems.append((field.location, "'\(key)' must be a non-empty string, found \(field.typeDescription)"))
            }
        }
        guard !isList(value) else { return problems }
        guard let metadata = value["metadata"] else {
            problems.append((value.location, "missing 'metadata'; add metadata.name"))
            return problems
        }
        guard metadata.entries != nil else {
            problems.append((metadata.location, "'metadata' must be a map, found \(metadata.typeDescription)"))
            return problems
        }
        if let name = metadata["name"] {
            if name.json.stringValue?.isEmpty ?? true {
                problems.append(
                    (name.location, "'metadata.name' must be a non-empty string, found \(name.typeDescription)"))
            }
        } else if metadata["generateName"] != nil {
            problems.append(
                (metadata.location, "'metadata.generateName' cannot be applied declaratively; set metadata.name"))
        } else {
            problems.append((metadata.location, "missing 'metadata.name'"))
        }
        if let namespace = metadata["namespace"], !namespace.isNull, namespace.json.stringValue == nil {
            problems.append(
                (namespace.location, "'metadata.namespace' must be a string, found \(namespace.typeDescription)"))
        }
        for key in ["labels", "annotations"] {
            guard let map = metadata[key], !map.isNull else { continue }
            guard let entries = map.entries else {
                problems.append(
                    (map.location, "'metadata.\(key)' must be a map of strings, found \(map.typeDescription)"))
                continue
            }
            for entry in entries where entry.value.json.stringValue == nil {
                problems.append(
                    (
                        entry.value.location,
                        "'metadata.\(key).\(entry.key)' must be a string, found \(entry.value.typeDescription); quote it"
                    ))
            }
        }
        return problems
    }
}
