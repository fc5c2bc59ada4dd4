public import Foundation
public import WherryModel

/// Everything an HTTP client needs to talk to one API server, resolved from a kubeconfig context or from the
/// pod's service account. Secrets are ``Redacted``, and every description leaves them out.
public struct KubeClientConfig: Sendable, Hashable {
    /// The API server, e.g. `https://10.0.0.1:6443` (may carry a path prefix behind a proxy).
    public var server: URL
    /// The name to verify the server certificate against, when not the host of ``server``.
    public var tlsServerName: String?
    /// PEM certificates to trust for the server; `nil` means the system's trust store.
    public var certificateAuthority: Data?
    /// Skip verifying the server certificate (`insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool
    /// A client certificate and key to present, when the user has one.
    public var clientCertificate: ClientCertificate?
    /// How requests authenticate besides (or instead of) a client certificate.
    public var credentials: Credentials
    /// The default namespace: the context's, else `default`.
    public var namespace: String
    /// `proxy-url` of the cluster, as written.
    public var proxyURL: String?
    /// Where this came from.
    public var source: Source

    public init(
        server: URL, tlsServerName: String? = nil, certificateAuthority: Data? = nil,
        insecureSkipTLSVerify: Bool = false, clientCertificate: ClientCertificate? = nil,
        credentials: Credentials = .none, namespace: String = "default", proxyURL: String? = nil,
        source: Source
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertificate = clientCertificate
        self.credentials = credentials
        self.namespace = namespace
        self.proxyURL = proxyURL
        self.source = source
    }

    /// The kubeconfig context used; `nil` in-cluster.
    public var contextName: String? {
        guard case .kubeconfig(_, let context) = source else { return nil }
        return context
    }

    /// The bearer token to send now: the inline token, or the token file read again, since a mounted
    /// service account token rotates. `nil` when the credentials are not a bearer token.
    public func currentBearerToken() throws(KubeConfigError) -> Redacted<String>? {
        switch credentials {
        case .bearerToken(let token): token
        case .bearerTokenFile(let file): try file.read()
        case .none, .basic: nil
        }
    }
}
