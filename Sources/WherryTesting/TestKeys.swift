import Foundation
import WherryExec

/// A key that signs commits, made at test time with the real tools: `ssh-keygen -t ed25519`, or
/// `gpg --quick-gen-key` in a temporary `GNUPGHOME`.
public struct TestSigner: Sendable {
    /// Which kind of signature it makes.
    public enum Kind: Sendable { case ssh, gpg }

    public let kind: Kind
    /// Holds the key (and, for gpg, the keyring).
    public let directory: TemporaryDirectory
    /// `git -c` settings that sign a commit with this key.
    public let gitArguments: [String]
    /// Environment for git when signing (the keyring, for gpg).
    public let environment: [String: String?]
    /// SSH: the `allowed_signers` line; gpg: the ASCII-armored public key.
    public let trustEntry: String
    /// SSH: `SHA256:…`; gpg: the key's fingerprint.
    public let fingerprint: String

    /// An ed25519 SSH key for `principal`.
    public static func ssh(principal: String = "dev@wherry.invalid") async throws -> TestSigner {
        let directory = try TemporaryDirectory(prefix: "sshkey")
        let key = "\(directory.path)/id_ed25519"
        _ = try await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", key])
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let fingerprint =
            try await run("ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"])
            .split(separator: " ").dropFirst().first.map(String.init) ?? ""
        return TestSigner(
            kind: .ssh, directory: directory,
            gitArguments: ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key)", "-c", "commit.gpgsign=true"],
            environment: [:], trustEntry: "\(principal) \(publicKey)", fingerprint: fingerprint)
    }

    /// An ed25519 OpenPGP key for `Wherry Test <email>`, in its own keyring.
    public static func gpg(email: String = "dev@wherry.invalid") async throws -> TestSigner {
        let directory = try TemporaryDirectory(prefix: "gpg")
        let home = directory.path
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home)
        let gpg = ["--batch", "--homedir", home]
        _ = try await run(
            "gpg", gpg + ["--passphrase", "", "--quick-gen-key", "Wherry Test <\(email)>", "ed25519", "sign", "never"])
        let colons = try await run("gpg", gpg + ["--with-colons", "--list-keys", email])
        let fingerprint =
            colons.split(separator: "\n").first { $0.hasPrefix("fpr:") }?.split(
                separator: ":", omittingEmptySubsequences: false
            ).dropFirst(9).first.map(String.init) ?? ""
        let armored = try await run("gpg", gpg + ["--armor", "--export", email])
        return TestSigner(
            kind: .gpg, directory: directory,
            gitArguments: [
                "-c", "user.signingkey=\(fingerprint)", "-c", "commit.gpgsign=true", "-c", "gpg.format=openpgp",
            ],
            environment: ["GNUPGHOME": home], trustEntry: armored, fingerprint: fingerprint)
    }

    /// Removes the key; stops the gpg agent signing started.
    public func remove() async {
        if kind == .gpg { _ = try? await Self.run("gpgconf", ["--homedir", directory.path, "--kill", "all"]) }
        directory.remove()
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String], input: String? = nil) async throws -> String {
        let result = try await CommandRunner.run(
            Command(
                program, arguments, environment: ["LC_ALL": "C"], input: input.map { Array($0.utf8) },
                timeout: .seconds(60)))
        guard result.succeeded else {
            throw FixtureError("\(program) \(arguments.first ?? "") failed: \(result.stderr)")
        }
        return result.stdoutText
    }
}

/// An age key made at test time with `age-keygen`, and `sops --encrypt` for it.
public struct TestAgeKey: Sendable {
    /// Holds the key file.
    public let directory: TemporaryDirectory
    /// The key file, as `age-keygen -o` writes it (comments and the `AGE-SECRET-KEY-1…` line).
    public let file: String
    /// The recipient (`age1…`).
    public let recipient: String

    public init() async throws {
        directory = try TemporaryDirectory(prefix: "age")
        file = "\(directory.path)/keys.txt"
        try await TestSigner.run("age-keygen", ["-o", file])
        recipient = try await TestSigner.run("age-keygen", ["-y", file]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The key file's text.
    public var text: String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

    /// `yaml` encrypted by the real `sops` for this key. Only `data` and `stringData` by default; `macOnlyEncrypted`
    /// lets a kustomize overlay change the rest (name prefixes, namespaces) without breaking the MAC.
    public func encrypt(
        _ yaml: String, encryptedRegex: String? = "^(data|stringData)$", macOnlyEncrypted: Bool = false
    ) async throws -> String {
        var arguments = ["--encrypt", "--age", recipient, "--input-type", "yaml", "--output-type", "yaml"]
        if let encryptedRegex { arguments += ["--encrypted-regex", encryptedRegex] }
        if macOnlyEncrypted { arguments.append("--mac-only-encrypted") }
        return try await TestSigner.run("sops", arguments + ["/dev/stdin"], input: yaml)
    }

    public func remove() { directory.remove() }
}
