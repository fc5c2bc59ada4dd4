/// Which commits of a repository Wherry may apply: only those signed by a key the team lists (`verify:`).
public struct CommitVerification: Sendable, Hashable {
    /// What is checked.
    public enum Mode: String, Sendable, Hashable {
        /// The commit about to be applied (the branch head).
        case head
    }

    /// The keys trusted to sign.
    public enum Trust: Sendable, Hashable, CustomStringConvertible {
        /// SSH signatures; the file is in git's `gpg.ssh.allowedSignersFile` format (`<principal> <key type> <key>`).
        case sshAllowedSigners(file: String)
        /// OpenPGP signatures; the file holds ASCII-armored public keys, imported into a throwaway keyring.
        case gpgKeys(file: String)

        /// The file listing the keys.
        public var file: String {
            switch self {
            case .sshAllowedSigners(let file), .gpgKeys(let file): file
            }
        }

        public var description: String {
            switch self {
            case .sshAllowedSigners(let file): "allowed_signers_file \(file)"
            case .gpgKeys(let file): "gpg_keys_file \(file)"
            }
        }
    }

    public var mode: Mode
    public var trust: Trust

    public init(mode: Mode = .head, trust: Trust) {
        self.mode = mode
        self.trust = trust
    }
}
