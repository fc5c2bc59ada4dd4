/// A Git operation that failed, with the remote (credentials removed) and git's own message.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that react differently (retry, report, stop).
    public enum Kind: Sendable, Equatable {
        /// The remote could not be reached (DNS, connection refused, no such path).
        case unreachable
        /// The remote refused the credentials, or asked for some and none were given.
        case authenticationFailed
        /// The branch does not exist on the remote.
        case branchNotFound
        /// A path inside the commit does not exist.
        case pathNotFound
        /// git ran longer than its timeout.
        case timedOut
        /// The `git` program is not installed.
        case gitNotInstalled
        /// The commit is not signed by a key the repository's `verify:` trusts (or the keys cannot be read): not applied,
        /// and not worth retrying until the branch moves.
        case untrustedCommit
        /// Anything else git reported.
        case failed
    }

    public var kind: Kind
    /// The operation, e.g. `ls-remote` or `fetch`.
    public var operation: String
    /// Remote URL without credentials.
    public var remote: String
    /// git's message (or ours), secrets removed.
    public var message: String

    public init(kind: Kind, operation: String, remote: String, message: String) {
        self.kind = kind
        self.operation = operation
        self.remote = remote
        self.message = message
    }

    /// Whether trying again later may help.
    public var isTransient: Bool { kind == .unreachable || kind == .timedOut }

    public var description: String {
        "git \(operation) \(remote): \(message)"
    }
}
