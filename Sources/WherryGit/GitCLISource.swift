import Foundation
public import Logging
import WherryExec

/// ``GitSource`` on the real `git` program.
///
/// Each remote gets a bare, shallow repository under `cacheDirectory/repos`; each commit Wherry reads gets a
/// read-only tree under `cacheDirectory/checkouts`. The branch head is learnt with one `ls-remote`; a fetch
/// happens only when that commit is not already here. Tokens reach git through its environment as an HTTP
/// header scoped to the remote's host, never on the command line, so they do not show in `ps`.
public actor GitCLISource: GitSource {
    /// Root of the cache.
    public let cacheDirectory: String
    /// Limit for any one git command.
    public let timeout: Duration
    /// The git program.
    public let git: String
    /// The ssh program git uses for `ssh://` and `user@host:path` remotes.
    public let ssh: String
    /// The ssh-keygen program git checks SSH signatures with.
    public let sshKeygen: String
    /// Checkouts kept per remote; older ones are removed.
    public let checkoutsToKeep: Int
    let logger: Logger
    // In-flight work, keyed by everything that makes it distinct (credentials included), so callers asking the
    // same thing at once share one git run.
    private var checkouts: [CheckoutKey: Task<GitCheckout, any Error>] = [:]
    private var resolutions: [GitRepository: Task<String, any Error>] = [:]
    /// The directories of recent commits with their tree ids (one `ls-tree` per commit serves every service of a
    /// repository), newest last; ``treeListingsToKeep`` at most.
    var treeListings: [(key: String, listing: Task<[String: String], any Error>)] = []
    /// Commits already verified, keyed by commit and the digest of the trusted keys (a changed key file verifies
    /// again).
    var verified: Set<String> = []
    /// How many fetches ran, for metrics and tests.
    public private(set) var fetchCount = 0

    public init(
        cacheDirectory: String, timeout: Duration = .seconds(60), git: String = "git", ssh: String = "ssh",
        sshKeygen: String = "ssh-keygen", checkoutsToKeep: Int = 3, logger: Logger = Logger(label: "wherry.git")
    ) {
        self.sshKeygen = sshKeygen
        self.cacheDirectory = cacheDirectory
        self.timeout = timeout
        self.git = git
        self.ssh = ssh
        self.checkoutsToKeep = max(1, checkoutsToKeep)
        self.logger = logger
    }

    public func resolve(_ repository: GitRepository) async throws(GitError) -> String {
        if let running = resolutions[repository] { return try await Self.value(of: running, repository, "ls-remote") }
        let task = Task { try await self.lsRemote(repository) }
        resolutions[repository] = task
        defer { resolutions[repository] = nil }
        return try await Self.value(of: task, repository, "ls-remote")
    }

    public func checkout(_ repository: GitRepository, commit: String) async throws(GitError) -> GitCheckout {
        guard Self.isCommitID(commit) else {
            throw GitError(
                kind: .failed, operation: "checkout", remote: repository.displayURL,
                message: "'\(commit)' is not a full commit id")
        }
        let key = CheckoutKey(repository: repository, commit: commit)
        if let running = checkouts[key] { return try await Self.value(of: running, repository, "checkout") }
        let task = Task { try await self.materialise(repository, commit: commit) }
        checkouts[key] = task
        defer { checkouts[key] = nil }
        return try await Self.value(of: task, repository, "checkout")
    }

    public func treeHash(_ repository: GitRepository, commit: String, path: String) async throws(GitError) -> String {
        let bare = bareDirectory(repository)
        let clean = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let spec = clean.isEmpty ? "\(commit)^{tree}" : "\(commit):\(clean)"
        // One process: `ls-tree` names the entry with its type, or prints nothing when the path does not exist.
        if !clean.isEmpty, let listed = await treeListing(repository, bare: bare, commit: commit)?[clean] {
            return listed
        }
        if clean.isEmpty {
            let id = try await runGit(
                ["--git-dir", bare, "rev-parse", "--verify", "--quiet", spec], repository, "rev-parse")
            if id.succeeded { return id.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) }
        } else {
            let entry = try await runGit(["--git-dir", bare, "ls-tree", commit, "--", clean], repository, "ls-tree")
            // `<mode> <type> <hash>\t<path>`
            let fields = entry.stdoutText.split(separator: "\t", maxSplits: 1).first?.split(separator: " ") ?? []
            if entry.succeeded, fields.count == 3 {
                guard fields[1] == "tree" else {
                    throw GitError(
                        kind: .pathNotFound, operation: "ls-tree", remote: repository.displayURL,
                        message: "'\(clean)' is a file at commit \(commit.prefix(12)), not a directory")
                }
                return String(fields[2])
            }
        }
        throw GitError(
            kind: .pathNotFound, operation: "ls-tree", remote: repository.displayURL,
            message: "'\(clean.isEmpty ? "." : clean)' does not exist at commit \(commit.prefix(12))")
    }

    public func objectIDs(
        _ repository: GitRepository, commit: String, paths: [String]
    ) async throws(GitError)
        -> [String]
    {
        guard !paths.isEmpty else { return [] }
        let specs = paths.map { path in
            "\(commit):" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        }
        // One process for all of them: `rev-parse` prints one id a line, in order, or fails naming the missing path.
        // Every argument starts with the commit id, so none reads as an option.
        let result = try await runGit(
            ["--git-dir", bareDirectory(repository), "rev-parse"] + specs, repository, "rev-parse")
        let ids = result.stdoutText.split(separator: "\n").map(String.init)
        guard result.succeeded, ids.count == paths.count else {
            let detail = Self.cleanMessage(result.stderr, repository: repository)
            throw GitError(
                kind: detail.contains("does not exist") ? .pathNotFound : .failed, operation: "rev-parse",
                remote: repository.displayURL,
                message: detail.isEmpty ? "cannot read object ids at commit \(commit.prefix(12))" : detail)
        }
        return ids
    }

    // MARK: - Steps

    private func lsRemote(_ repository: GitRepository) async throws(GitError) -> String {
        let ref = "refs/heads/\(repository.branch)"
        let result = try await runGit(["ls-remote", "--exit-code", repository.url, ref], repository, "ls-remote")
        if result.exitCode == 2 {
            throw GitError(
                kind: .branchNotFound, operation: "ls-remote", remote: repository.displayURL,
                message: "branch '\(repository.branch)' does not exist on the remote; check the branch name")
        }
        try check(result, repository, "ls-remote")
        for line in result.stdoutText.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2, fields[1] == ref, Self.isCommitID(String(fields[0])) { return String(fields[0]) }
        }
        throw GitError(
            kind: .branchNotFound, operation: "ls-remote", remote: repository.displayURL,
            message: "branch '\(repository.branch)' does not exist on the remote; check the branch name")
    }

    private func materialise(_ repository: GitRepository, commit: String) async throws(GitError) -> GitCheckout {
        let bare = try await ensureBareRepository(repository)
        if !(try await hasCommit(bare, commit, repository)) {
            try await fetch(repository, bare: bare, commit: commit)
        }
        let parent = "\(cacheDirectory)/checkouts/\(GitURL.cacheKey(repository.url, branch: repository.branch))"
        let final = "\(parent)/\(commit)"
        if FileManager.default.fileExists(atPath: final) {
            // Mark it recently used, so pruning removes the least recently used checkouts first.
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: final)
            return GitCheckout(commit: commit, path: final)
        }
        let staging = "\(parent)/.staging-\(commit)-\(UUID().uuidString.prefix(8))"
        let index = staging + ".index"
        defer {
            try? FileManager.default.removeItem(atPath: index)
            try? FileManager.default.removeItem(atPath: staging)
        }
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw localError(repository, "cannot create \(staging): \(error.localizedDescription)")
        }
        // A private index per checkout: concurrent checkouts of other commits never share a lock.
        let env: [String: String?] = ["GIT_INDEX_FILE": index]
        try check(
            try await runGit(["--git-dir", bare, "read-tree", commit], repository, "read-tree", env: env),
            repository, "read-tree")
        try check(
            try await runGit(
                ["--git-dir", bare, "--work-tree", staging, "checkout-index", "--all", "--force"], repository,
                "checkout-index", env: env, directory: staging),
            repository, "checkout-index")
        do {
            try FileManager.default.moveItem(atPath: staging, toPath: final)
        } catch  where FileManager.default.fileExists(atPath: final) {
            // Another process finished the same checkout first; theirs is identical.
        } catch {
            throw localError(repository, "cannot move checkout into place: \(error.localizedDescription)")
        }
        pruneCheckouts(in: parent, keeping: final)
        logger.debug(
            "Checked out commit",
            metadata: ["wherry.repo": "\(repository.displayURL)", "wherry.revision": "\(commit)"])
        return GitCheckout(commit: commit, path: final)
    }

    private func fetch(_ repository: GitRepository, bare: String, commit: String) async throws(GitError) {
        fetchCount += 1
        logger.debug(
            "Fetching", metadata: ["wherry.repo": "\(repository.displayURL)", "wherry.revision": "\(commit)"])
        let refspec = "+refs/heads/\(repository.branch):refs/wherry/\(repository.branch)"
        let result = try await runGit(
            ["--git-dir", bare, "fetch", "--quiet", "--no-tags", "--depth", "1", repository.url, refspec], repository,
            "fetch")
        try check(result, repository, "fetch")
        if try await hasCommit(bare, commit, repository) { return }
        // The branch moved on since ls-remote; servers such as GitHub still serve the older commit by id.
        let byID = try await runGit(
            ["--git-dir", bare, "fetch", "--quiet", "--no-tags", "--depth", "1", repository.url, commit], repository,
            "fetch")
        guard byID.succeeded, try await hasCommit(bare, commit, repository) else {
            throw GitError(
                kind: .failed, operation: "fetch", remote: repository.displayURL,
                message:
                    "commit \(commit.prefix(12)) is no longer on branch '\(repository.branch)' (force-pushed?); the next poll follows the new head"
            )
        }
    }

    private func ensureBareRepository(_ repository: GitRepository) async throws(GitError) -> String {
        let bare = bareDirectory(repository)
        if FileManager.default.fileExists(atPath: "\(bare)/HEAD") { return bare }
        try check(try await runGit(["init", "--bare", "--quiet", bare], repository, "init"), repository, "init")
        return bare
    }

    private func hasCommit(_ bare: String, _ commit: String, _ repository: GitRepository) async throws(GitError) -> Bool
    {
        try await runGit(["--git-dir", bare, "cat-file", "-e", "\(commit)^{commit}"], repository, "cat-file").succeeded
    }

    func bareDirectory(_ repository: GitRepository) -> String {
        "\(cacheDirectory)/repos/\(GitURL.cacheKey(repository.url, branch: repository.branch)).git"
    }

    private func pruneCheckouts(in parent: String, keeping current: String) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: parent) else { return }
        let dated = names.filter { !$0.hasPrefix(".") }.map { "\(parent)/\($0)" }.compactMap {
            path -> (String, Date)? in
            guard let date = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date else {
                return nil
            }
            return (path, date)
        }
        for (path, _) in dated.sorted(by: { $0.1 > $1.1 }).dropFirst(checkoutsToKeep) where path != current {
            try? manager.removeItem(atPath: path)
        }
    }

    private static func value<T: Sendable>(
        of task: Task<T, any Error>, _ repository: GitRepository, _ operation: String
    )
        async throws(GitError) -> T
    {
        do {
            return try await task.value
        } catch let error as GitError {
            throw error
        } catch {
            throw GitError(kind: .failed, operation: operation, remote: repository.displayURL, message: "\(error)")
        }
    }

    private func localError(_ repository: GitRepository, _ message: String) -> GitError {
        GitError(kind: .failed, operation: "checkout", remote: repository.displayURL, message: message)
    }

    static func isCommitID(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

/// One checkout request: a remote (with its credentials) and a commit.
private struct CheckoutKey: Hashable {
    let repository: GitRepository
    let commit: String
}
