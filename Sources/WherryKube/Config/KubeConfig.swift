public import WherryModel

/// The contents of one kubeconfig file, or of several merged the way kubectl merges `$KUBECONFIG`.
///
/// Only what Wherry uses is kept: clusters, users, contexts and `current-context`. `preferences`,
/// `extensions` and any unknown field are ignored, as kubectl ignores them. Relative file paths are already
/// resolved against the directory of the file that defined them.
public struct KubeConfig: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Clusters by name.
    public var clusters: [String: Cluster]
    /// Users (`users`, kubectl's auth infos) by name.
    public var users: [String: User]
    /// Contexts by name.
    public var contexts: [String: Context]
    /// The context used when none is asked for; `nil` when no file sets a non-empty one.
    public var currentContext: String?
    /// Where `current-context` was set.
    public var currentContextLocation: SourceLocation?
    /// The files read, in the order they were merged.
    public var files: [String]

    public init(
        clusters: [String: Cluster] = [:], users: [String: User] = [:], contexts: [String: Context] = [:],
        currentContext: String? = nil, currentContextLocation: SourceLocation? = nil, files: [String] = []
    ) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
        self.currentContextLocation = currentContextLocation
        self.files = files
    }

    /// Whether the files defined nothing at all (kubectl then falls back to the in-cluster config).
    public var isEmpty: Bool { clusters.isEmpty && users.isEmpty && contexts.isEmpty && currentContext == nil }

    /// Merges files in `$KUBECONFIG` order as kubectl does: for clusters, users and contexts the first file that
    /// defines a name wins, and `current-context` comes from the first file that sets it.
    public static func merging(_ configs: [KubeConfig]) -> KubeConfig {
        var merged = KubeConfig()
        for config in configs {
            merged.clusters.merge(config.clusters) { first, _ in first }
            merged.users.merge(config.users) { first, _ in first }
            merged.contexts.merge(config.contexts) { first, _ in first }
            if merged.currentContext == nil, let current = config.currentContext {
                merged.currentContext = current
                merged.currentContextLocation = config.currentContextLocation
            }
            merged.files += config.files
        }
        return merged
    }

    /// The files for messages: `a`, or `a, b` when merged.
    var filesDescription: String { files.isEmpty ? "the kubeconfig" : files.joined(separator: ", ") }

    /// Names only: entries hold tokens and keys, which must never be printed.
    public var description: String {
        "KubeConfig(files: [\(files.joined(separator: ", "))], current-context: \(currentContext ?? "none"), "
            + "contexts: [\(contexts.keys.sorted().joined(separator: ", "))], "
            + "clusters: [\(clusters.keys.sorted().joined(separator: ", "))], "
            + "users: [\(users.keys.sorted().joined(separator: ", "))])"
    }

    public var debugDescription: String { description }
}
