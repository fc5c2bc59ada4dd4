public import WherryModel

/// One problem in a config file, with where it is and how to fix it.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// How bad it is.
    public enum Severity: String, Sendable {
        case error, warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ severity: Severity, _ location: SourceLocation, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let text = "\(location): \(severity.rawValue): \(message)"
        guard let hint else { return text }
        return text + " (\(hint))"
    }
}

/// The config could not be used; every error found is listed.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(_ issues: [ConfigIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
