import Foundation
import WherryExec
import WherryModel

/// Commit signature verification with the real `git verify-commit`, `ssh-keygen` and `gpg`.
///
/// Nothing of the user's setup is trusted: git runs without user or system config, and `gpg` runs in a throwaway
/// `GNUPGHOME` under the cache that holds only the keys of the repository's `gpg_keys_file` (one per version of
/// that file, so a key removed from it is no longer trusted). SSH signatures are checked against the
/// `allowed_signers_file` alone, with an empty keyring, so an OpenPGP signature never passes in SSH mode.
extension GitCLISource {
    /// The `gpg` program.
    static let gpgProgram = "gpg"

    public func verify(
        _ repository: GitRepository, commit: String, with verification: CommitVerification
    ) async throws(GitError) {
        let keys = try readTrustFile(verification.trust, repository)
        let cacheKey = "\(commit) \(verification.trust) \(Digest.sha256Hex(keys))"
        if verified.contains(cacheKey) { return }
        let home = try await keyring(for: verification.trust, keys: keys, repository)
        let env: [String: String?] = ["GNUPGHOME": home, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]
        let settings = Self.verifySettings(verification.trust, sshKeygen: sshKeygen)
        let bare = bareDirectory(repository)
        let result = try await runGit(
            ["--git-dir", bare] + settings + ["verify-commit", commit], repository, "verify-commit", env: env)
        if result.succeeded {
            if verified.count > 10_000 { verified.removeAll() }
            verified.insert(cacheKey)
            logger.debug(
                "Commit signature verified",
                metadata: ["wherry.repo": "\(repository.displayURL)", "wherry.revision": "\(commit)"])
            return
        }
        // What git saw: %G? (N none, U good but untrusted, E key unknown, B bad, X/Y expired, R revoked), then the
        // key's fingerprint and id.
        let shown = try await runGit(
            ["--git-dir", bare] + settings + ["log", "-1", "--format=%G?%x1f%GF%x1f%GK", commit], repository,
            "verify-commit", env: env)
        let fields = shown.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "\u{1f}", omittingEmptySubsequences: false
        ).map(String.init)
        if let problem = Self.toolFailure(status: fields.first ?? "", stderr: result.stderr + "\n" + shown.stderr) {
            // Not a verdict on the commit: a missing or unfit program says nothing about who signed it.
            throw GitError(
                kind: .failed, operation: "verify-commit", remote: repository.displayURL,
                message: "the signature of commit \(commit.prefix(12)) could not be checked: "
                    + Self.cleanMessage(problem, repository: repository)
                    + " (install git's signature programs, ssh-keygen from OpenSSH 8.9 or later and gnupg)")
        }
        throw GitError(
            kind: .untrustedCommit, operation: "verify-commit", remote: repository.displayURL,
            message: "commit \(commit.prefix(12)) on \(repository.branch) is not signed by a trusted key ("
                + Self.signer(fields) + "); it is not applied, and the next commit on the branch is checked")
    }

    /// What git says of a signature it judged: no signature, or one it checked and found wanting.
    static let verdicts: Set<String> = ["N", "U", "E", "B", "X", "Y", "R"]

    /// What programs say when they could not check at all, lowercased.
    static let toolErrors = [
        "cannot run", "command not found", "not installed", "find-principals",
        "unknown option", "illegal option", "usage: ssh-keygen", "failed to start", "permission denied",
        "couldn't load", "cannot open",
    ]

    /// `stderr` when a failed verification is a program's failure (it could not check: missing, too old, unable
    /// to start) rather than a verdict on the commit; `nil` when git judged the signature.
    static func toolFailure(status: String, stderr: String) -> String? {
        let lower = stderr.lowercased()
        guard !verdicts.contains(status) || toolErrors.contains(where: lower.contains) else { return nil }
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "git printed no reason (signature status '\(status)')" : text
    }

    /// Says who signed, from `%G?`, `%GF` and `%GK`.
    static func signer(_ fields: [String]) -> String {
        let status = fields.first ?? ""
        let key = fields.dropFirst().first { !$0.isEmpty } ?? ""
        guard status != "N", !status.isEmpty, !key.isEmpty else { return "not signed" }
        switch status {
        case "B": return "bad signature by \(key)"
        case "X": return "signed by \(key), signature expired"
        case "Y": return "signed by \(key), key expired"
        case "R": return "signed by \(key), key revoked"
        default: return "signed by \(key)"
        }
    }

    /// git settings for verification: only the repository's trusted keys count.
    static func verifySettings(_ trust: CommitVerification.Trust, sshKeygen: String = "ssh-keygen") -> [String] {
        let allowed =
            switch trust {
            case .sshAllowedSigners(let file): file
            // git wants the file to exist; an empty one trusts no SSH key.
            case .gpgKeys: "/dev/null"
            }
        return [
            "-c", "gpg.ssh.allowedSignersFile=\(allowed)", "-c", "gpg.ssh.program=\(sshKeygen)",
            "-c", "gpg.program=\(gpgProgram)", "-c", "gpg.minTrustLevel=undefined",
        ]
    }

    /// The trusted keys file, read now (it may be a mounted Secret or ConfigMap that changes).
    private func readTrustFile(
        _ trust: CommitVerification.Trust, _ repository: GitRepository
    ) throws(GitError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: trust.file) else {
            throw GitError(
                kind: .failed, operation: "verify-commit", remote: repository.displayURL,
                message: "\(trust) cannot be read; no commit is applied until it can (check the path and that it "
                    + "is mounted)")
        }
        guard data.count <= 1 << 20 else {
            throw GitError(
                kind: .failed, operation: "verify-commit", remote: repository.displayURL,
                message: "\(trust) is larger than 1 MiB; list only the keys that sign")
        }
        return Array(data)
    }

    /// A `GNUPGHOME` holding exactly `keys` (empty in SSH mode), made once per version of the key file.
    private func keyring(
        for trust: CommitVerification.Trust, keys: [UInt8], _ repository: GitRepository
    ) async throws(GitError) -> String {
        let name: String
        switch trust {
        case .sshAllowedSigners: name = "empty"
        case .gpgKeys: name = String(Digest.sha256Hex(keys).prefix(32))
        }
        let home = "\(cacheDirectory)/gnupg/\(name)"
        if FileManager.default.fileExists(atPath: "\(home)/ready") { return home }
        let staging = "\(cacheDirectory)/gnupg/.staging-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        do {
            try FileManager.default.createDirectory(
                atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Verification needs no agent; none is left running behind.
            try Data("no-autostart\n".utf8).write(to: URL(fileURLWithPath: "\(staging)/gpg.conf"))
        } catch {
            throw keyringError(repository, "cannot create a keyring under \(cacheDirectory): \(error)")
        }
        if case .gpgKeys(let file) = trust {
            let imported = try await runGPG(["--import", file], home: staging, repository)
            let listed = try await runGPG(["--list-keys", "--with-colons"], home: staging, repository)
            guard imported.succeeded, listed.stdoutText.contains("\npub:") || listed.stdoutText.hasPrefix("pub:")
            else {
                let detail = imported.stderr.split(separator: "\n").first.map(String.init) ?? ""
                throw keyringError(
                    repository,
                    "gpg_keys_file \(file) holds no OpenPGP public key gpg can import (\(detail)); "
                        + "export the keys with gpg --armor --export")
            }
        }
        do {
            try Data().write(to: URL(fileURLWithPath: "\(staging)/ready"))
            try FileManager.default.moveItem(atPath: staging, toPath: home)
        } catch  where FileManager.default.fileExists(atPath: "\(home)/ready") {
            // Made by a concurrent verification meanwhile: the same keys.
        } catch {
            throw keyringError(repository, "cannot move the keyring into place: \(error)")
        }
        return home
    }

    private func runGPG(
        _ arguments: [String], home: String, _ repository: GitRepository
    ) async throws(GitError) -> CommandResult {
        let command = Command(
            Self.gpgProgram, ["--batch", "--no-tty", "--no-autostart", "--homedir", home] + arguments,
            environment: ["LC_ALL": "C"], timeout: timeout)
        do {
            return try await CommandRunner.run(command)
        } catch {
            let message =
                error.kind == .notFound ? "the gpg program is not installed; install gnupg" : error.description
            throw keyringError(repository, message)
        }
    }

    private func keyringError(_ repository: GitRepository, _ message: String) -> GitError {
        GitError(kind: .failed, operation: "verify-commit", remote: repository.displayURL, message: message)
    }
}
