public import Foundation
public import WherryModel

extension KubeClientConfig {
    /// Where a client config came from.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        /// Kubeconfig files, in the order they were merged, and the context used.
        case kubeconfig(files: [String], context: String)
        /// The pod's service account, mounted in this directory.
        case inCluster(serviceAccountDirectory: String)

        public var description: String {
            switch self {
            case .kubeconfig(let files, let context):
                "context \(context) of \(files.joined(separator: ", "))"
            case .inCluster(let directory):
                "in-cluster service account (\(directory))"
            }
        }
    }

    /// How requests prove who they are (a client certificate is kept apart: it can come with a token).
    public enum Credentials: Sendable, Hashable, CustomStringConvertible {
        /// Nothing besides a client certificate, if any.
        case none
        /// `Authorization: Bearer` with a fixed token.
        case bearerToken(Redacted<String>)
        /// `Authorization: Bearer` with the token in a file, read again for every use (it may rotate).
        case bearerTokenFile(TokenFile)
        /// `Authorization: Basic`.
        case basic(username: String, password: Redacted<String>)

        public var description: String {
            switch self {
            case .none: "none"
            case .bearerToken: "bearer token ***"
            case .bearerTokenFile(let file): "bearer token from \(file.path)"
            case .basic(let username, _): "basic auth \(username):***"
            }
        }
    }

    /// A client certificate and its private key, both PEM.
    public struct ClientCertificate: Sendable, Hashable, CustomStringConvertible {
        /// The certificate chain, PEM.
        public var certificate: Data
        /// The private key, PEM.
        public var key: Redacted<Data>

        public init(certificate: Data, key: Redacted<Data>) {
            self.certificate = certificate
            self.key = key
        }

        public var description: String { "client certificate (\(certificate.count) bytes) with key ***" }
    }

    /// A file holding a bearer token. Only the path is kept, so a rotated token is picked up on the next read.
    public struct TokenFile: Sendable, Hashable, CustomStringConvertible {
        /// Absolute path of the file.
        public var path: String
        /// Where the file was configured (the kubeconfig entry), for messages; `nil` for the in-cluster mount.
        public var origin: SourceLocation?
        /// The field that named the file, e.g. `users[ci].tokenFile`, for messages.
        public var field: String?

        public init(path: String, origin: SourceLocation? = nil, field: String? = nil) {
            self.path = path
            self.origin = origin
            self.field = field
        }

        /// The token in the file now, without surrounding whitespace (as client-go reads it).
        public func read() throws(KubeConfigError) -> Redacted<String> {
            let hint = "write the bearer token into the file, or point tokenFile at the mounted token"
            let text = try FileContents.text(path, location: origin, field: field, what: "token", hint: hint)
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw KubeConfigError("token file \(path) is empty", location: origin, field: field, hint: hint)
            }
            return Redacted(token)
        }

        public var description: String { "token file \(path)" }
    }
}
