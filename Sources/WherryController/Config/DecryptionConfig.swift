import Foundation
public import WherryModel

/// How a service's SOPS-encrypted objects are decrypted (`decryption: {provider: sops, age_key_file | age_key_env}`,
/// on a service or, inherited by its services, on a repository). The key itself is never in the config.
public struct DecryptionConfig: Sendable, Hashable {
    /// The decryption program.
    public enum Provider: String, Sendable, Hashable, CaseIterable {
        /// Mozilla/CNCF SOPS with age keys.
        case sops
    }

    /// Where the age key comes from.
    public enum AgeKeySource: Sendable, Hashable, CustomStringConvertible {
        /// A file holding the key (`age-keygen` output), e.g. a mounted Secret (`age_key_file`).
        case file(String)
        /// An environment variable holding the key (`age_key_env`).
        case environment(String)

        public var description: String {
            switch self {
            case .file(let path): "age_key_file \(path)"
            case .environment(let name): "age_key_env \(name)"
            }
        }
    }

    public var provider: Provider
    public var ageKey: AgeKeySource
    /// Where the block was written.
    public var location: SourceLocation

    public init(provider: Provider = .sops, ageKey: AgeKeySource, location: SourceLocation) {
        self.provider = provider
        self.ageKey = ageKey
        self.location = location
    }

    /// The key, read now (a mounted Secret or the environment may change between reconciles).
    public func readKey(environment: [String: String]) throws(ConfigError) -> Secret {
        let text: String
        switch ageKey {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigError([
                    ConfigIssue(
                        .error, location, "environment variable \(name) (decryption.age_key_env) is not set",
                        hint: "export \(name) with the age key (the AGE-SECRET-KEY-1… line of age-keygen's file)")
                ])
            }
            text = value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
                throw ConfigError([
                    ConfigIssue(
                        .error, location, "decryption.age_key_file '\(path)' cannot be read",
                        hint: "check that the key file (or the Secret holding it) is mounted there and readable")
                ])
            }
            text = String(decoding: data, as: UTF8.self)
        }
        return Secret(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A digest of the key for the render digest: a new key applies the service again, and the digest (stored in
    /// SQLite and the cluster) does not reveal it.
    public static func keyDigest(_ key: Secret) -> String {
        String(Digest.sha256Hex(Array("wherry sops age key\n\(key.value)".utf8)).prefix(16))
    }
}

extension WherryConfig {
    /// The decryption settings of a service: its own, else its repository's.
    public func decryption(for service: ServiceConfig) -> DecryptionConfig? {
        service.decryption ?? repository(for: service)?.decryption
    }
}
