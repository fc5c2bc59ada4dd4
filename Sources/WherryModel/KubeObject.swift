/// One Kubernetes object in unstructured form, with where it came from.
public struct KubeObject: Sendable, Hashable {
    /// The whole object (`apiVersion`, `kind`, `metadata`, `spec`, ...).
    public var body: JSONObject
    /// Where the object was read from, when known; not part of the object's identity or equality.
    public var source: SourceLocation?

    /// Wraps an object body. Use ``ManifestValidation`` (WherryRender) to make sure required fields exist.
    public init(body: JSONObject, source: SourceLocation? = nil) {
        self.body = body
        self.source = source
    }

    public static func == (lhs: KubeObject, rhs: KubeObject) -> Bool { lhs.body == rhs.body }
    public func hash(into hasher: inout Hasher) { hasher.combine(body) }

    /// `apiVersion`, or empty.
    public var apiVersion: String { body["apiVersion"]?.stringValue ?? "" }
    /// `kind`, or empty.
    public var kind: String { body["kind"]?.stringValue ?? "" }
    /// Group, version and kind.
    public var groupVersionKind: GroupVersionKind { GroupVersionKind(apiVersion: apiVersion, kind: kind) }

    /// `metadata.name`, or empty.
    public var name: String { metadata["name"]?.stringValue ?? "" }

    /// `metadata.namespace`, or empty; setting an empty string removes it.
    public var namespace: String {
        get { metadata["namespace"]?.stringValue ?? "" }
        set { setMetadata("namespace", newValue.isEmpty ? nil : .string(newValue)) }
    }

    /// `metadata.labels` as strings (non-string values are skipped).
    public var labels: [String: String] { stringMap("labels") }
    /// `metadata.annotations` as strings (non-string values are skipped).
    public var annotations: [String: String] { stringMap("annotations") }

    /// The object's identity.
    public var ref: ObjectRef {
        ObjectRef(group: groupVersionKind.group, kind: kind, namespace: namespace, name: name)
    }

    /// Sets (or replaces) labels, keeping existing ones and their order.
    public mutating func setLabels(_ newLabels: [(String, String)]) {
        var labels = metadata["labels"]?.objectValue ?? JSONObject()
        for (key, value) in newLabels { labels[key] = .string(value) }
        setMetadata("labels", .object(labels))
    }

    private var metadata: JSONObject { body["metadata"]?.objectValue ?? JSONObject() }

    private mutating func setMetadata(_ key: String, _ value: JSONValue?) {
        var metadata = self.metadata
        metadata[key] = value
        body["metadata"] = .object(metadata)
    }

    private func stringMap(_ key: String) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in metadata[key]?.objectValue?.members ?? [] {
            if let string = value.stringValue { result[name] = string }
        }
        return result
    }
}
