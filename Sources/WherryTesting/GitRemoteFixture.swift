import Foundation
import WherryExec

/// A real Git remote for tests: a bare repository in a temp directory, plus a work tree that commits and pushes.
///
/// Reach it as `fileURL` (file://), or serve `root` with ``GitHTTPServer`` for HTTP.
public struct GitRemoteFixture: Sendable {
    /// Temp directory holding everything; also the project root for ``GitHTTPServer``.
    public let root: TemporaryDirectory
    /// Name of the bare repository (`<name>.git` under `root`).
    public let name: String
    /// The branch commits go to.
    public let branch: String

    /// Path of the bare repository.
    public var barePath: String { "\(root.path)/\(name).git" }
    /// Path of the work tree used to make commits.
    public var workPath: String { "\(root.path)/work-\(name)" }
    /// `file://` URL of the bare repository.
    public var fileURL: String { "file://\(barePath)" }

    /// Creates an empty bare repository and a work tree on `branch`.
    public init(name: String = "repo", branch: String = "main") async throws {
        root = try TemporaryDirectory(prefix: "remote")
        self.name = name
        self.branch = branch
        try await git(["init", "--quiet", "--bare", "--initial-branch", branch, barePath], in: root.path)
        try await git(["init", "--quiet", "--initial-branch", branch, workPath], in: root.path)
        try await git(["remote", "add", "origin", barePath], in: workPath)
    }

    /// Writes files (a `nil` content deletes one), commits (signed by `signer`, when given), pushes, and returns the
    /// new commit id.
    @discardableResult
    public func commit(
        _ files: [String: String?], message: String = "update", branch: String? = nil,
        signedBy signer: TestSigner? = nil
    ) async throws
        -> String
    {
        let target = branch ?? self.branch
        let work = TemporaryDirectory.existing(workPath)
        for (path, content) in files {
            if let content {
                try work.write(path, content)
            } else {
                try? FileManager.default.removeItem(atPath: "\(workPath)/\(path)")
            }
        }
        try await git(["add", "--all", "."], in: workPath)
        try await Self.runGit(
            (signer?.gitArguments ?? []) + ["commit", "--quiet", "--allow-empty", "-m", message], in: workPath,
            environment: signer?.environment ?? [:])
        try await git(["push", "--quiet", "--force", "origin", "HEAD:refs/heads/\(target)"], in: workPath)
        return try await git(["rev-parse", "HEAD"], in: workPath).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Deletes a branch on the remote.
    public func deleteBranch(_ branch: String) async throws {
        try await git(["--git-dir", barePath, "update-ref", "-d", "refs/heads/\(branch)"], in: root.path)
    }

    /// Removes every file of the fixture.
    public func remove() { root.remove() }

    /// Runs git with a fixed identity and no user or system configuration; returns standard output.
    @discardableResult
    public func git(_ arguments: [String], in directory: String) async throws -> String {
        try await Self.runGit(arguments, in: directory)
    }

    /// Runs git for fixtures: fixed identity, isolated from the machine's git configuration.
    @discardableResult
    public static func runGit(
        _ arguments: [String], in directory: String, environment: [String: String?] = [:]
    ) async throws -> String {
        var env: [String: String?] = [
            "GIT_AUTHOR_NAME": "Wherry Test", "GIT_AUTHOR_EMAIL": "test@wherry.invalid",
            "GIT_COMMITTER_NAME": "Wherry Test", "GIT_COMMITTER_EMAIL": "test@wherry.invalid",
            "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
        ]
        env.merge(environment) { _, new in new }
        let result = try await CommandRunner.run(
            Command("git", arguments, environment: env, workingDirectory: directory, timeout: .seconds(60)))
        guard result.succeeded else {
            throw FixtureError("git \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdoutText
    }
}

/// A fixture could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension TemporaryDirectory {
    /// Wraps an existing directory (not removed by anyone but its owner).
    static func existing(_ path: String) -> TemporaryDirectory {
        TemporaryDirectory(existingPath: path)
    }

    private init(existingPath: String) {
        self.path = existingPath
    }
}
