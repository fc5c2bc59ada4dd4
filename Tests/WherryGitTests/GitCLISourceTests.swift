import Foundation
import Testing
import WherryGit
import WherryTesting

@Suite("GitCLISource on real repositories")
struct GitCLISourceTests {
    private func source(
        _ cache: TemporaryDirectory, git: String = "git", timeout: Duration = .seconds(30)
    ) -> GitCLISource {
        GitCLISource(cacheDirectory: cache.path, timeout: timeout, git: git)
    }

    @Test("detects a new commit over file:// and checks out its files")
    func newCommitOverFile() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let first = try await remote.commit(["deploy/a.yaml": "kind: A\n"])
        let git = source(cache)
        let repository = GitRepository(url: remote.fileURL, branch: "main")

        #expect(try await git.resolve(repository) == first)
        let checkout = try await git.checkout(repository, commit: first)
        #expect(try String(contentsOfFile: checkout.path + "/deploy/a.yaml", encoding: .utf8) == "kind: A\n")

        let second = try await remote.commit(["deploy/a.yaml": "kind: B\n"])
        #expect(try await git.resolve(repository) == second)
        let next = try await git.checkout(repository, commit: second)
        #expect(try String(contentsOfFile: next.path + "/deploy/a.yaml", encoding: .utf8) == "kind: B\n")
        #expect(await git.fetchCount == 2)
    }

    @Test("an unchanged commit is not fetched again over HTTP")
    func unchangedCommitNoFetch() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let commit = try await remote.commit(["k8s/cm.yaml": "a: b\n"])
        let git = source(cache)
        try await GitHTTPServer.withServer(projectRoot: remote.root.path) { base, log in
            let repository = GitRepository(url: "\(base)/\(remote.name).git", branch: "main")
            for _ in 0..<3 {
                let head = try await git.resolve(repository)
                #expect(head == commit)
                _ = try await git.checkout(repository, commit: head)
            }
            #expect(log.fetches == 1)
            #expect(await git.fetchCount == 1)
        }
    }

    @Test("a token is sent over HTTP and a wrong or missing one fails as authentication")
    func tokenAuthentication() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let commit = try await remote.commit(["k8s/cm.yaml": "a: b\n"])
        let token = "ghp_testTOKEN1234567890secret"
        let git = source(cache)
        try await GitHTTPServer.withServer(projectRoot: remote.root.path, token: token) { base, log in
            let url = "\(base)/\(remote.name).git"
            let good = GitRepository(url: url, credentials: .token(token))
            #expect(try await git.resolve(good) == commit)
            _ = try await git.checkout(good, commit: commit)
            #expect(log.requests.allSatisfy { $0.authorized })

            for credentials in [GitCredentials.token("ghp_wrongTOKEN0000000000"), .none] {
                let error = try await #require(throws: GitError.self) {
                    try await git.resolve(GitRepository(url: url, credentials: credentials))
                }
                #expect(error.kind == .authenticationFailed)
                #expect(!error.description.contains("ghp_wrong"))
                #expect(!error.description.contains(token))
            }
        }
    }

    @Test("a token embedded in the URL never shows in errors")
    func embeddedTokenRedacted() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        let repository = GitRepository(url: "http://user:s3cr3tTOKEN@127.0.0.1:1/repo.git")
        let error = try await #require(throws: GitError.self) { try await source(cache).resolve(repository) }
        #expect(error.kind == .unreachable)
        #expect(!error.description.contains("s3cr3tTOKEN"))
        #expect(error.remote == "http://127.0.0.1:1/repo.git")
    }

    @Test("the token never appears on git's command line")
    func tokenNotInArguments() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        let bin = try TemporaryDirectory(prefix: "bin")
        defer { remote.remove(); cache.remove(); bin.remove() }
        let commit = try await remote.commit(["k8s/cm.yaml": "a: b\n"])
        // A wrapper that records every argument list, then runs the real git.
        let wrapper = try bin.write("git", "#!/bin/sh\necho \"$@\" >> \"\(bin.path)/argv.log\"\nexec git \"$@\"\n")
        chmod(wrapper, 0o755)
        let token = "ghp_argvTOKEN1234567890"
        let git = source(cache, git: wrapper)
        try await GitHTTPServer.withServer(projectRoot: remote.root.path, token: token) { base, _ in
            let repository = GitRepository(url: "\(base)/\(remote.name).git", credentials: .token(token))
            _ = try await git.checkout(repository, commit: try await git.resolve(repository))
        }
        let argv = try String(contentsOfFile: "\(bin.path)/argv.log", encoding: .utf8)
        #expect(argv.contains("ls-remote"))
        #expect(argv.contains(commit))
        #expect(!argv.contains(token))
        #expect(!argv.contains(Data("x-access-token:\(token)".utf8).base64EncodedString()))
    }

    @Test("an unreachable remote is a typed error naming the remote")
    func unreachableRemote() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        let git = source(cache)
        for url in ["file:///nonexistent/wherry/repo.git", "http://127.0.0.1:1/repo.git"] {
            let error = try await #require(throws: GitError.self) { try await git.resolve(GitRepository(url: url)) }
            #expect(error.kind == .unreachable, "\(error)")
            #expect(error.description.contains(url))
            #expect(error.isTransient)
        }
    }

    @Test("a deleted branch is reported as branch not found")
    func deletedBranch() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        try await remote.commit(["a.yaml": "x: 1\n"])
        try await remote.commit(["a.yaml": "x: 2\n"], branch: "release")
        let git = source(cache)
        let repository = GitRepository(url: remote.fileURL, branch: "release")
        _ = try await git.resolve(repository)
        try await remote.deleteBranch("release")
        let error = try await #require(throws: GitError.self) { try await git.resolve(repository) }
        #expect(error.kind == .branchNotFound)
        #expect(error.message.contains("'release'"))
    }

    @Test("tree hashes change only when the directory changes")
    func treeHashes() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let git = source(cache)
        let repository = GitRepository(url: remote.fileURL)
        let first = try await remote.commit(["apps/web/a.yaml": "a: 1\n", "apps/db/b.yaml": "b: 1\n"])
        let second = try await remote.commit(["apps/db/b.yaml": "b: 2\n"])
        _ = try await git.checkout(repository, commit: first)
        _ = try await git.checkout(repository, commit: second)

        let webBefore = try await git.treeHash(repository, commit: first, path: "apps/web")
        let webAfter = try await git.treeHash(repository, commit: second, path: "./apps/web/")
        let dbBefore = try await git.treeHash(repository, commit: first, path: "apps/db")
        let dbAfter = try await git.treeHash(repository, commit: second, path: "apps/db")
        #expect(webBefore == webAfter)
        #expect(dbBefore != dbAfter)
        #expect(try await git.treeHash(repository, commit: first, path: ".").count == 40)

        let missing = try await #require(throws: GitError.self) {
            try await git.treeHash(repository, commit: first, path: "apps/nope")
        }
        #expect(missing.kind == .pathNotFound)
        let file = try await #require(throws: GitError.self) {
            try await git.treeHash(repository, commit: first, path: "apps/web/a.yaml")
        }
        #expect(file.message.contains("is a file"))
    }

    @Test("object ids of directories, files and links come back in the order asked, in one run")
    func objectIDs() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let git = source(cache)
        let repository = GitRepository(url: remote.fileURL)
        let first = try await remote.commit(["apps/web/a.yaml": "a: 1\n", "apps/db/b.yaml": "b: 1\n"])
        try FileManager.default.createSymbolicLink(
            atPath: "\(remote.workPath)/apps/link", withDestinationPath: "web/a.yaml")
        let second = try await remote.commit(["apps/db/b.yaml": "b: 2\n"])
        _ = try await git.checkout(repository, commit: first)
        _ = try await git.checkout(repository, commit: second)

        let paths = ["apps/db/b.yaml", "./apps/web/", "", "apps/link"]
        let before = try await git.objectIDs(repository, commit: first, paths: Array(paths.prefix(3)))
        let after = try await git.objectIDs(repository, commit: second, paths: paths)
        #expect(before.count == 3 && after.count == 4)
        #expect(before[0] != after[0])
        #expect(before[1] == after[1])
        #expect(after[1] == (try await git.treeHash(repository, commit: second, path: "apps/web")))
        #expect(after[2] == (try await git.treeHash(repository, commit: second, path: ".")))
        // The link itself (its target's path), not what it points at.
        #expect(after[3] != after[1])
        #expect(try await git.objectIDs(repository, commit: first, paths: []) == [])

        let missing = try await #require(throws: GitError.self) {
            try await git.objectIDs(repository, commit: first, paths: ["apps/web", "apps/nope"])
        }
        #expect(missing.kind == .pathNotFound)
        #expect(missing.message.contains("apps/nope"))
    }

    @Test("concurrent checkouts of one commit share a single fetch")
    func concurrentCheckoutsShareFetch() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let commit = try await remote.commit(["k8s/a.yaml": "a: 1\n"])
        let git = source(cache)
        let repository = GitRepository(url: remote.fileURL)
        let paths = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 { group.addTask { try await git.checkout(repository, commit: commit).path } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(paths.count == 1)
        #expect(await git.fetchCount == 1)
    }

    @Test("a git command that hangs is stopped at the timeout")
    func timeout() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        let bin = try TemporaryDirectory(prefix: "bin")
        defer { cache.remove(); bin.remove() }
        let slow = try bin.write("git", "#!/bin/sh\nsleep 30\n")
        chmod(slow, 0o755)
        let git = source(cache, git: slow, timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let error = try await #require(throws: GitError.self) {
            try await git.resolve(GitRepository(url: "file:///unused"))
        }
        #expect(error.kind == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("a missing git program says to install git")
    func gitMissing() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        let error = try await #require(throws: GitError.self) {
            try await source(cache, git: "/nonexistent/bin/git").resolve(GitRepository(url: "file:///unused"))
        }
        #expect(error.kind == .gitNotInstalled)
        #expect(error.message.contains("install git"))
    }

    @Test(
        "credentials never show in descriptions",
        arguments: [
            ("https://x:ghp_abc123456@github.com/o/r.git", "https://github.com/o/r.git"),
            ("https://github.com/o/r", "https://github.com/o/r"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("ssh://git@host:2222/o/r.git", "ssh://host:2222/o/r.git"),
        ])
    func redaction(url: String, shown: String) {
        #expect(GitRepository(url: url).displayURL == shown)
        #expect(!GitCredentials.token("ghp_secret_value").description.contains("ghp_secret_value"))
    }
}
