import Foundation
import Testing
import WherryTesting

@testable import WherryGit

/// A signature program that cannot run is a failure to retry, not a verdict on the commit.
@Suite("Commit verification when a program fails")
struct VerificationToolTests {
    @Test("ssh-keygen missing: a retryable failure carrying git's message, not an untrusted commit")
    func missingSSHKeygen() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        let signer = try await TestSigner.ssh(principal: "alice@wherry.invalid")
        defer {
            remote.remove()
            cache.remove()
            signer.directory.remove()
        }
        let allowed = try cache.write("allowed_signers", signer.trustEntry + "\n")
        let git = GitCLISource(cacheDirectory: cache.path, sshKeygen: "/nonexistent/ssh-keygen")
        let repository = GitRepository(url: remote.fileURL, branch: "main")
        let commit = try await remote.commit(["k8s/a.yaml": "a: 1\n"], signedBy: signer)
        _ = try await git.checkout(repository, commit: commit)
        let error = try await #require(throws: GitError.self) {
            try await git.verify(
                repository, commit: commit,
                with: CommitVerification(mode: .head, trust: .sshAllowedSigners(file: allowed)))
        }
        #expect(error.kind == .failed)
        #expect(error.message.contains("could not be checked") && error.message.contains("cannot run"), "\(error)")
        #expect(!error.message.contains("not signed by a trusted key"))
    }

    @Test("only git's verdicts without a program error are refusals")
    func classification() {
        #expect(GitCLISource.toolFailure(status: "N", stderr: "") == nil)
        #expect(GitCLISource.toolFailure(status: "U", stderr: "No principal matched.\n") == nil)
        #expect(GitCLISource.toolFailure(status: "E", stderr: "gpg: Can't check signature: No public key\n") == nil)
        let tooOld = "unknown option -- Y\nusage: ssh-keygen [-q] ...\n"
        #expect(GitCLISource.toolFailure(status: "B", stderr: tooOld) == tooOld.trimmingCharacters(in: .newlines))
        #expect(GitCLISource.toolFailure(status: "B", stderr: "error: cannot run gpg: No such file\n") != nil)
        #expect(GitCLISource.toolFailure(status: "G", stderr: "") != nil)
    }
}
