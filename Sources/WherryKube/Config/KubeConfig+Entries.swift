public import Foundation
public import WherryModel

extension KubeConfig {
    /// One `clusters` entry: where the API server is and how to trust it.
    public struct Cluster: Sendable, Hashable {
        /// The entry's name.
        public var name: String
        /// `server`: the API server URL as written.
        public var server: String?
        /// `tls-server-name`: the name to verify the server certificate against, when not the URL's host.
        public var tlsServerName: String?
        /// `certificate-authority`: absolute path of a PEM file.
        public var certificateAuthority: String?
        /// `certificate-authority-data`, base64-decoded.
        public var certificateAuthorityData: Data?
        /// `insecure-skip-tls-verify`.
        public var insecureSkipTLSVerify: Bool
        /// `proxy-url`, as written.
        public var proxyURL: String?
        /// Where the entry is (its `- name:` line).
        public var location: SourceLocation
        /// Where each field set in the entry is, by its kubeconfig key.
        var fieldLocations: [String: SourceLocation]

        public init(name: String, location: SourceLocation) {
            self.name = name
            self.location = location
            insecureSkipTLSVerify = false
            fieldLocations = [:]
        }

        /// Path of a field for messages, e.g. `clusters[prod].server`.
        public func path(_ key: String) -> String { "clusters[\(name)].\(key)" }

        /// Where a field is, or the entry when it is not set.
        public func location(of key: String) -> SourceLocation { fieldLocations[key] ?? location }
    }

    /// One `users` entry (kubectl's auth info): how requests prove who they are.
    public struct User: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
        /// The entry's name.
        public var name: String
        /// `client-certificate`: absolute path of a PEM file.
        public var clientCertificate: String?
        /// `client-certificate-data`, base64-decoded.
        public var clientCertificateData: Data?
        /// `client-key`: absolute path of a PEM file.
        public var clientKey: String?
        /// `client-key-data`, base64-decoded.
        public var clientKeyData: Redacted<Data>?
        /// `token`: a bearer token.
        public var token: Redacted<String>?
        /// `tokenFile`: absolute path of a file holding a bearer token.
        public var tokenFile: String?
        /// `username` for basic authentication.
        public var username: String?
        /// `password` for basic authentication.
        public var password: Redacted<String>?
        /// `exec.command` when the entry has an `exec` credential plugin (empty when it names none). Never run.
        public var execCommand: String?
        /// `auth-provider.name` when the entry has an `auth-provider` (empty when it names none). Never used.
        public var authProvider: String?
        /// The impersonation keys set (`as`, `as-uid`, `as-groups`, `as-user-extra`).
        public var impersonation: [String]
        /// Where the entry is (its `- name:` line).
        public var location: SourceLocation
        /// Where each field set in the entry is, by its kubeconfig key.
        var fieldLocations: [String: SourceLocation]

        public init(name: String, location: SourceLocation) {
            self.name = name
            self.location = location
            impersonation = []
            fieldLocations = [:]
        }

        /// Path of a field for messages, e.g. `users[alice].client-key`.
        public func path(_ key: String) -> String { "users[\(name)].\(key)" }

        /// Where a field is, or the entry when it is not set.
        public func location(of key: String) -> SourceLocation { fieldLocations[key] ?? location }

        /// Which kinds of credentials are set, never their values.
        public var description: String {
            var parts: [String] = []
            if clientCertificate != nil || clientCertificateData != nil { parts.append("client certificate") }
            if token != nil { parts.append("token ***") }
            if let tokenFile { parts.append("tokenFile \(tokenFile)") }
            if let username { parts.append("basic auth \(username):***") }
            if let execCommand { parts.append("exec \(execCommand)") }
            if let authProvider { parts.append("auth-provider \(authProvider)") }
            return "User(\(name)\(parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")))"
        }

        public var debugDescription: String { description }
    }

    /// One `contexts` entry: a cluster, a user and a default namespace.
    public struct Context: Sendable, Hashable {
        /// The entry's name.
        public var name: String
        /// `cluster`: name of a `clusters` entry.
        public var cluster: String?
        /// `user`: name of a `users` entry.
        public var user: String?
        /// `namespace`: the default namespace.
        public var namespace: String?
        /// Where the entry is (its `- name:` line).
        public var location: SourceLocation
        /// Where each field set in the entry is, by its kubeconfig key.
        var fieldLocations: [String: SourceLocation]

        public init(name: String, location: SourceLocation) {
            self.name = name
            self.location = location
            fieldLocations = [:]
        }

        /// Path of a field for messages, e.g. `contexts[dev].cluster`.
        public func path(_ key: String) -> String { "contexts[\(name)].\(key)" }

        /// Where a field is, or the entry when it is not set.
        public func location(of key: String) -> SourceLocation { fieldLocations[key] ?? location }
    }
}
