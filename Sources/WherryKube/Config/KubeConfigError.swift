public import WherryModel

/// A kubeconfig (or in-cluster service account) that cannot be used: where the problem is, what it is, and what
/// to do about it. Never holds a secret: messages name fields and files, not their values.
public struct KubeConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (and line, when known) the problem is in; `nil` when no single file is to blame.
    public var location: SourceLocation?
    /// Path of the field in the file, e.g. `users[alice].client-key`.
    public var field: String?
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ message: String, location: SourceLocation? = nil, field: String? = nil, hint: String? = nil) {
        self.message = message
        self.location = location
        self.field = field
        self.hint = hint
    }

    /// `file:line:column: field: message (hint)`, leaving out what is unknown.
    public var description: String {
        let text = ([location?.description, field].compactMap { $0 } + [message]).joined(separator: ": ")
        guard let hint else { return text }
        return text + " (\(hint))"
    }
}
