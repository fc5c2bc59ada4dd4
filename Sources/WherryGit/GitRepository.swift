/// A Git remote and branch to follow, with the credentials to reach it.
public struct GitRepository: Sendable, Hashable {
    /// Remote URL: `https://`, `http://`, `ssh://`, `user@host:path`, `file://` or a local path.
    public var url: String
    /// Branch to follow.
    public var branch: String
    /// How to authenticate.
    public var credentials: GitCredentials

    public init(url: String, branch: String = "main", credentials: GitCredentials = .none) {
        self.url = url
        self.branch = branch
        self.credentials = credentials
    }

    /// The URL without any user name or password, safe for logs, errors and status.
    public var displayURL: String { GitURL.redacted(url) }
}

/// Credentials for a Git remote. Their values never appear in descriptions.
public enum GitCredentials: Sendable, Hashable, CustomStringConvertible {
    /// Public or local repository.
    case none
    /// HTTPS token (GitHub personal access or app token), sent as an HTTP `Authorization` header.
    case token(String)
    /// SSH private key file and, optionally, a known_hosts file (the user's default is used otherwise).
    case ssh(keyFile: String, knownHostsFile: String?)

    public var description: String {
        switch self {
        case .none: "none"
        case .token: "token(***)"
        case .ssh(let keyFile, let knownHosts): "ssh(key: \(keyFile), known_hosts: \(knownHosts ?? "default"))"
        }
    }

    /// Secret strings to scrub from git's output.
    var secrets: [String] {
        if case .token(let token) = self { return [token] }
        return []
    }
}

/// A commit checked out on disk.
public struct GitCheckout: Sendable, Hashable {
    /// Full commit id.
    public var commit: String
    /// Directory holding the commit's files.
    public var path: String

    public init(commit: String, path: String) {
        self.commit = commit
        self.path = path
    }
}
