public import WherryModel

/// A parsed YAML node that remembers where it was written, so errors can point at `file:line:column`.
public struct YAMLValue: Sendable {
    /// The node's shape.
    public enum Content: Sendable {
        /// A scalar, already resolved to null, boolean, number or string.
        case scalar(JSONValue)
        /// A list.
        case sequence([YAMLValue])
        /// A map, keys in written order.
        case mapping([Entry])
    }

    /// One member of a map.
    public struct Entry: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: YAMLValue

        public init(key: String, keyLocation: SourceLocation, value: YAMLValue) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var content: Content
    /// Where the node starts.
    public var location: SourceLocation

    public init(content: Content, location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// The plain JSON value of this node and everything under it.
    public var json: JSONValue {
        switch content {
        case .scalar(let value): value
        case .sequence(let items): .array(items.map(\.json))
        case .mapping(let entries): .object(JSONObject(entries.map { ($0.key, $0.value.json) }))
        }
    }

    /// The entries when this is a map.
    public var entries: [Entry]? {
        if case .mapping(let entries) = content { return entries }
        return nil
    }

    /// The member for a key when this is a map.
    public subscript(key: String) -> YAMLValue? {
        entries?.first { $0.key == key }?.value
    }

    /// Whether this is a null scalar (`~`, `null` or nothing).
    public var isNull: Bool {
        if case .scalar(.null) = content { return true }
        return false
    }

    /// "a map", "a list", "a string", ... for error messages.
    public var typeDescription: String {
        switch content {
        case .scalar(let value): value.typeDescription
        case .sequence: "a list"
        case .mapping: "a map"
        }
    }
}

/// A YAML document that could not be read, with the place it went wrong.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
