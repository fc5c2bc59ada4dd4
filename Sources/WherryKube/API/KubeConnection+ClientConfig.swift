import Foundation

extension KubeConnection {
    /// The connection a loaded kubeconfig (or in-cluster config) describes.
    public init(_ config: KubeClientConfig) {
        let credentials: Credentials =
            switch config.credentials {
            case .none: .none
            case .bearerToken(let token): .bearer(token.value)
            case .bearerTokenFile(let file): .bearerFile(file.path)
            case .basic(let username, let password): .basic(username: username, password: password.value)
            }
        self.init(
            server: config.server.absoluteString,
            certificateAuthorityPEM: config.certificateAuthority.map { String(decoding: $0, as: UTF8.self) },
            clientCertificatePEM: config.clientCertificate.map { String(decoding: $0.certificate, as: UTF8.self) },
            clientKeyPEM: config.clientCertificate.map { String(decoding: $0.key.value, as: UTF8.self) },
            insecureSkipTLSVerify: config.insecureSkipTLSVerify,
            tlsServerName: config.tlsServerName,
            credentials: credentials)
    }
}
