import Foundation
import Testing
import WherryGit
import WherryTesting

/// SSH remotes, with a test double for `ssh`: it records its arguments and runs git's remote command
/// (`git-upload-pack '<path>'`) locally, as sshd would on the server. git's own ssh transport runs unchanged.
@Suite("GitCLISource over the ssh transport")
struct GitSSHTransportTests {
    private func fakeSSH(in bin: TemporaryDirectory, failing: Bool = false) throws -> String {
        let body =
            failing
            ? "echo 'git@example.invalid: Permission denied (publickey).' >&2\nexit 255\n"
            : "for last; do :; done\nexec sh -c \"$last\"\n"
        let path = try bin.write("ssh", "#!/bin/sh\necho \"$@\" >> \"\(bin.path)/ssh-argv.log\"\n" + body)
        chmod(path, 0o755)
        return path
    }

    @Test("fetches with the key and known_hosts given, in batch mode with strict host checking")
    func keyAndKnownHosts() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        let bin = try TemporaryDirectory(prefix: "bin")
        defer { remote.remove(); cache.remove(); bin.remove() }
        let commit = try await remote.commit(["k8s/a.yaml": "a: 1\n"])
        let key = try bin.write("keys/id_ed25519", "not a real key; the double does not read it\n")
        let knownHosts = try bin.write("keys/known hosts", "example.invalid ssh-ed25519 AAAA\n")
        let git = GitCLISource(cacheDirectory: cache.path, ssh: try fakeSSH(in: bin))
        let repository = GitRepository(
            url: "ssh://git@example.invalid:2222\(remote.barePath)",
            credentials: .ssh(keyFile: key, knownHostsFile: knownHosts))

        #expect(try await git.resolve(repository) == commit)
        let checkout = try await git.checkout(repository, commit: commit)
        #expect(FileManager.default.fileExists(atPath: checkout.path + "/k8s/a.yaml"))

        let argv = try String(contentsOfFile: "\(bin.path)/ssh-argv.log", encoding: .utf8)
        let firstCall = try #require(argv.split(separator: "\n").first)
        #expect(firstCall.contains("-i \(key) -o IdentitiesOnly=yes"))
        #expect(firstCall.contains("-o UserKnownHostsFile=\(knownHosts)"))
        #expect(firstCall.contains("-o BatchMode=yes -o StrictHostKeyChecking=yes"))
        #expect(firstCall.contains("-p 2222"))
        #expect(firstCall.contains("git@example.invalid"))
        #expect(firstCall.contains("git-upload-pack '\(remote.barePath)'"))
    }

    @Test("a refused key is an authentication error")
    func refusedKey() async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        let bin = try TemporaryDirectory(prefix: "bin")
        defer { cache.remove(); bin.remove() }
        let git = GitCLISource(cacheDirectory: cache.path, ssh: try fakeSSH(in: bin, failing: true))
        let error = try await #require(throws: GitError.self) {
            try await git.resolve(GitRepository(url: "git@example.invalid:org/repo.git"))
        }
        #expect(error.kind == .authenticationFailed)
        #expect(error.message.contains("Permission denied (publickey)"))
        // Even without a key, ssh never prompts and never accepts an unknown host.
        let argv = try String(contentsOfFile: "\(bin.path)/ssh-argv.log", encoding: .utf8)
        #expect(argv.contains("-o BatchMode=yes -o StrictHostKeyChecking=yes"))
    }
}
