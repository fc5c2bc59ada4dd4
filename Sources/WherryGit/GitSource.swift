/// Where Wherry reads desired state from: a Git remote followed by branch.
public protocol GitSource: Sendable {
    /// The commit the branch points at now, asked of the remote in one round trip.
    func resolve(_ repository: GitRepository) async throws(GitError) -> String

    /// The files of `commit` on disk, fetching it first if it is not already here.
    func checkout(_ repository: GitRepository, commit: String) async throws(GitError) -> GitCheckout

    /// The tree id of `path` in `commit` (a directory), so callers can tell whether it changed between commits.
    func treeHash(_ repository: GitRepository, commit: String, path: String) async throws(GitError) -> String
}
