/// Where Wherry reads desired state from: a Git remote followed by branch.
public protocol GitSource: Sendable {
    /// The commit the branch points at now, asked of the remote in one round trip.
    func resolve(_ repository: GitRepository) async throws(GitError) -> String

    /// The files of `commit` on disk, fetching it first if it is not already here.
    func checkout(_ repository: GitRepository, commit: String) async throws(GitError) -> GitCheckout

    /// The tree id of `path` in `commit` (a directory), so callers can tell whether it changed between commits.
    func treeHash(_ repository: GitRepository, commit: String, path: String) async throws(GitError) -> String

    /// The object ids of `paths` in `commit` (trees for directories, blobs for files and symbolic links; `""` is the
    /// root), in the order asked, so callers can tell whether any of them changed between commits.
    func objectIDs(_ repository: GitRepository, commit: String, paths: [String]) async throws(GitError) -> [String]

    /// Checks that `commit` (already checked out) is signed by a key `verification` trusts; throws
    /// ``GitError/Kind-swift.enum/untrustedCommit`` when it is not, naming the signer or saying it is unsigned.
    func verify(
        _ repository: GitRepository, commit: String, with verification: CommitVerification)
        async throws(GitError)
}

extension GitSource {
    /// Sources that only know directories: one ``treeHash(_:commit:path:)`` per path (files are an error).
    public func objectIDs(
        _ repository: GitRepository, commit: String, paths: [String]
    ) async throws(GitError)
        -> [String]
    {
        var ids: [String] = []
        for path in paths { ids.append(try await treeHash(repository, commit: commit, path: path)) }
        return ids
    }
}
