import AsyncHTTPClient
import NIOCore
import NIOSSL

extension HTTPKubeAPI {
    /// TLS settings from the connection: custom CA, client certificate, or no verification at all.
    static func tlsConfiguration(_ connection: KubeConnection) throws(KubeAPIError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = connection.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
            }
            if let certificate = connection.clientCertificatePEM {
                guard let key = connection.clientKeyPEM else {
                    throw KubeAPIError(
                        code: 0, reason: "TLSConfiguration",
                        message: "a client certificate is set but no client key; set client-key or client-key-data",
                        request: "connect \(connection.server)")
                }
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map {
                    .certificate($0)
                }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
            }
        } catch let error as KubeAPIError {
            throw error
        } catch {
            throw KubeAPIError(
                code: 0, reason: "TLSConfiguration",
                message: "the kubeconfig's certificate or key cannot be read: \(error)",
                request: "connect \(connection.server)")
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        return tls
    }

    /// Names what went wrong when no HTTP answer came back.
    static func transportError(_ error: any Error, label: String, server: String) -> KubeAPIError {
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return KubeAPIError(
                code: 0, reason: "TLSFailure",
                message:
                    "TLS with \(server) failed (\(error)); check the kubeconfig's certificate-authority and client certificate",
                request: label)
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout:
                return KubeAPIError(
                    code: 0, reason: "Timeout", message: "no answer from \(server) in time", request: label)
            case .connectTimeout, .remoteConnectionClosed, .cancelled:
                break
            default:
                if "\(client)".lowercased().contains("tls") || "\(client)".lowercased().contains("ssl") {
                    return KubeAPIError(
                        code: 0, reason: "TLSFailure", message: "TLS with \(server) failed (\(client))", request: label)
                }
            }
        }
        return KubeAPIError(
            code: 0, reason: "ConnectionFailed", message: "cannot reach \(server): \(error)", request: label)
    }
}
