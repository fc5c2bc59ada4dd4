public import WherryModel

/// One problem found while rendering a service's manifests.
public struct RenderIssue: Sendable, Hashable, CustomStringConvertible {
    /// Where it is, when it is in a file.
    public var location: SourceLocation?
    /// The object it concerns (`Kind/ns/name`), when known.
    public var object: String?
    /// What is wrong and what to do.
    public var message: String

    public init(location: SourceLocation?, object: String? = nil, message: String) {
        self.location = location
        self.object = object
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let location { parts.append("\(location)") }
        if let object { parts.append(object) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// Rendering failed; every problem found is listed, not just the first.
public struct RenderFailure: Error, Sendable, CustomStringConvertible {
    public var issues: [RenderIssue]

    public init(_ issues: [RenderIssue]) { self.issues = issues }

    public init(_ issue: RenderIssue) { self.issues = [issue] }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
