import NIOSSL

/// HTTPS for the fake API server, optionally with client certificates required.
extension FakeAPIServer {
    /// The server's certificate and key, and the CA that client certificates must be signed by (if any).
    public struct TLS: Sendable {
        /// The server certificate, then any intermediates, as PEM.
        public var certificateChainPEM: String
        /// The server's private key as PEM.
        public var privateKeyPEM: String
        /// When set, every client must present a certificate signed by this CA (PEM), or the handshake fails.
        public var clientCAPEM: String?

        public init(certificateChainPEM: String, privateKeyPEM: String, clientCAPEM: String? = nil) {
            self.certificateChainPEM = certificateChainPEM
            self.privateKeyPEM = privateKeyPEM
            self.clientCAPEM = clientCAPEM
        }

        /// The NIOSSL server configuration.
        func configuration() throws -> TLSConfiguration {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8))
            let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            if let clientCAPEM {
                let roots = try NIOSSLCertificate.fromPEMBytes(Array(clientCAPEM.utf8))
                configuration.trustRoots = .certificates(roots)
                // A server never checks a client's host name; this mode still requires and verifies the certificate.
                configuration.certificateVerification = .noHostnameVerification
            }
            return configuration
        }
    }
}
