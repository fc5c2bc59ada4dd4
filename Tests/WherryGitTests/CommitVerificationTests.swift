import Foundation
import Testing
import WherryGit
import WherryTesting

/// Commit signatures checked with the real git, ssh-keygen and gpg, against keys made at test time.
@Suite("Commit signature verification on real repositories")
struct CommitVerificationTests {
    /// A remote, a cache, a source and a trusted-keys file, removed afterwards.
    private struct Setup {
        let remote: GitRemoteFixture
        let cache: TemporaryDirectory
        let git: GitCLISource
        let repository: GitRepository

        init() async throws {
            remote = try await GitRemoteFixture()
            cache = try TemporaryDirectory(prefix: "cache")
            git = GitCLISource(cacheDirectory: cache.path, timeout: .seconds(30))
            repository = GitRepository(url: remote.fileURL, branch: "main")
        }

        /// Checks the commit out, then verifies it.
        func verify(_ commit: String, _ verification: CommitVerification) async throws {
            _ = try await git.checkout(repository, commit: commit)
            try await git.verify(repository, commit: commit, with: verification)
        }

        func remove() {
            remote.remove()
            cache.remove()
        }
    }

    /// The error a refused commit throws.
    private func refusal(_ body: () async throws -> Void) async -> GitError? {
        do {
            try await body()
            return nil
        } catch let error as GitError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("SSH: a commit signed by a trusted key passes; unsigned and untrusted ones are refused, naming the signer")
    func sshSignatures() async throws {
        let setup = try await Setup()
        let trusted = try await TestSigner.ssh(principal: "alice@wherry.invalid")
        let stranger = try await TestSigner.ssh(principal: "mallory@wherry.invalid")
        defer {
            setup.remove()
            trusted.directory.remove()
            stranger.directory.remove()
        }
        let allowed = try setup.cache.write("allowed_signers", trusted.trustEntry + "\n")
        let verification = CommitVerification(mode: .head, trust: .sshAllowedSigners(file: allowed))

        let signed = try await setup.remote.commit(["k8s/a.yaml": "a: 1\n"], signedBy: trusted)
        try await setup.verify(signed, verification)

        let unsigned = try await setup.remote.commit(["k8s/a.yaml": "a: 2\n"])
        let unsignedError = await refusal { try await setup.verify(unsigned, verification) }
        #expect(unsignedError?.kind == .untrustedCommit)
        #expect(
            unsignedError?.message.hasPrefix(
                "commit \(unsigned.prefix(12)) on main is not signed by a trusted key (not signed)") == true)
        #expect(unsignedError?.isTransient == false)

        let foreign = try await setup.remote.commit(["k8s/a.yaml": "a: 3\n"], signedBy: stranger)
        let foreignError = await refusal { try await setup.verify(foreign, verification) }
        #expect(foreignError?.kind == .untrustedCommit)
        #expect(foreignError?.message.contains("(signed by \(stranger.fingerprint))") == true)
    }

    @Test("SSH: a key removed from the allowed signers is refused on the next commit")
    func removedKey() async throws {
        let setup = try await Setup()
        let alice = try await TestSigner.ssh(principal: "alice@wherry.invalid")
        let bob = try await TestSigner.ssh(principal: "bob@wherry.invalid")
        defer {
            setup.remove()
            alice.directory.remove()
            bob.directory.remove()
        }
        let allowed = try setup.cache.write("allowed_signers", alice.trustEntry + "\n" + bob.trustEntry + "\n")
        let verification = CommitVerification(mode: .head, trust: .sshAllowedSigners(file: allowed))
        try await setup.verify(try await setup.remote.commit(["k8s/a.yaml": "a: 1\n"], signedBy: bob), verification)

        try setup.cache.write("allowed_signers", alice.trustEntry + "\n")
        let next = try await setup.remote.commit(["k8s/a.yaml": "a: 2\n"], signedBy: bob)
        let error = await refusal { try await setup.verify(next, verification) }
        #expect(error?.message.contains("(signed by \(bob.fingerprint))") == true)
        try await setup.verify(try await setup.remote.commit(["k8s/a.yaml": "a: 3\n"], signedBy: alice), verification)
    }

    @Test("SSH: a force-push of the branch to an unsigned commit is refused")
    func forcePushUnsigned() async throws {
        let setup = try await Setup()
        let trusted = try await TestSigner.ssh()
        defer {
            setup.remove()
            trusted.directory.remove()
        }
        let allowed = try setup.cache.write("allowed_signers", trusted.trustEntry + "\n")
        let verification = CommitVerification(mode: .head, trust: .sshAllowedSigners(file: allowed))
        try await setup.remote.commit(["k8s/a.yaml": "a: 1\n"], signedBy: trusted)
        let second = try await setup.remote.commit(["k8s/a.yaml": "a: 2\n"], signedBy: trusted)
        #expect(try await setup.git.resolve(setup.repository) == second)
        try await setup.verify(second, verification)

        try await setup.remote.git(["reset", "--quiet", "--hard", "HEAD~1"], in: setup.remote.workPath)
        let rewritten = try await setup.remote.commit(["k8s/a.yaml": "a: 9\n"], message: "rewritten")
        #expect(try await setup.git.resolve(setup.repository) == rewritten)
        let error = await refusal { try await setup.verify(rewritten, verification) }
        #expect(error?.kind == .untrustedCommit)
        #expect(error?.message.contains("(not signed)") == true)
    }

    @Test("OpenPGP: a trusted key passes in a throwaway keyring; another key and SSH signatures are refused")
    func gpgSignatures() async throws {
        let setup = try await Setup()
        let trusted = try await TestSigner.gpg(email: "alice@wherry.invalid")
        let stranger = try await TestSigner.gpg(email: "mallory@wherry.invalid")
        let ssh = try await TestSigner.ssh()
        defer { setup.remove() }
        let keys = try setup.cache.write("trusted.asc", trusted.trustEntry)
        let verification = CommitVerification(mode: .head, trust: .gpgKeys(file: keys))

        let signed = try await setup.remote.commit(["k8s/a.yaml": "a: 1\n"], signedBy: trusted)
        try await setup.verify(signed, verification)

        let foreign = try await setup.remote.commit(["k8s/a.yaml": "a: 2\n"], signedBy: stranger)
        let foreignError = await refusal { try await setup.verify(foreign, verification) }
        #expect(foreignError?.kind == .untrustedCommit)
        #expect(foreignError?.message.contains("signed by \(stranger.fingerprint.suffix(16))") == true)

        let sshSigned = try await setup.remote.commit(["k8s/a.yaml": "a: 3\n"], signedBy: ssh)
        #expect(await refusal { try await setup.verify(sshSigned, verification) }?.kind == .untrustedCommit)

        // The keyring under the cache holds only the trusted key, and no agent was left running for it.
        let homes = try FileManager.default.contentsOfDirectory(atPath: setup.cache.path + "/gnupg")
        #expect(homes.count == 1)
        await trusted.remove()
        await stranger.remove()
        await ssh.remove()
    }

    @Test("an unreadable trusted-keys file fails the check as an error to fix, not as a refused commit")
    func unreadableKeys() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        let commit = try await setup.remote.commit(["k8s/a.yaml": "a: 1\n"])
        let verification = CommitVerification(
            mode: .head, trust: .sshAllowedSigners(file: setup.cache.path + "/missing"))
        let error = await refusal { try await setup.verify(commit, verification) }
        #expect(error?.kind == .failed)
        #expect(error?.message.contains("allowed_signers_file \(setup.cache.path)/missing cannot be read") == true)
    }
}
