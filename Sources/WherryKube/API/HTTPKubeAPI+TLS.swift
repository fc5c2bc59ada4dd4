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

    /// Names what went wrong when no HTTP answer came back, in words rather than a BoringSSL dump.
    static func transportError(
        _ error: any Error, label: String, server: String, connectTimeout: Duration = .seconds(10)
    ) -> KubeAPIError {
        if error is CancellationError { return cancelled(label) }
        let text = "\(error)"
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return KubeAPIError(code: 0, reason: "TLSFailure", message: tlsProblem(text), request: label)
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .cancelled:
                return cancelled(label)
            case .deadlineExceeded, .readTimeout:
                return KubeAPIError(
                    code: 0, reason: "Timeout", message: "no answer from \(server) in time", request: label)
            case .connectTimeout, .tlsHandshakeTimeout:
                // Not a certificate problem: nothing answered (AsyncHTTPClient's connect deadline covers the TCP
                // connect and the TLS handshake alike).
                return KubeAPIError(
                    code: 0, reason: "ConnectTimeout",
                    message:
                        "timed out after \(seconds(connectTimeout)): no connection could be set up (the TCP connect "
                        + "or the TLS handshake got no answer; a stopped or overloaded server, a proxy or a firewall in "
                        + "between?)",
                    request: label)
            case .remoteConnectionClosed:
                break
            default:
                if text.lowercased().contains("tls") || text.lowercased().contains("ssl") {
                    return KubeAPIError(code: 0, reason: "TLSFailure", message: tlsProblem(text), request: label)
                }
            }
        }
        return KubeAPIError(code: 0, reason: "ConnectionFailed", message: connectionProblem(text), request: label)
    }

    /// `10 s`, `0.5 s`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.inMilliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// What a TLS failure means for the user, from the library's description of it.
    static func tlsProblem(_ text: String) -> String {
        let upper = text.uppercased()
        let cause: String
        if upper.contains("CERTIFICATE_VERIFY_FAILED") || upper.contains("UNABLE_TO_GET_ISSUER") {
            cause =
                "the server's certificate is not signed by a trusted authority; check the kubeconfig's "
                + "certificate-authority (or certificate-authority-data)"
        } else if upper.contains("HOSTNAME") || upper.contains("SUBJECT ALTERNATIVE") {
            cause = "the server's certificate does not name this host; check the kubeconfig's server address"
        } else if upper.contains("WRONG_VERSION_NUMBER") || upper.contains("UNEXPECTED RECORD") {
            cause = "the server does not speak TLS at this address; check the kubeconfig's server URL (https://)"
        } else if upper.contains("ALERT") || upper.contains("CERTIFICATE_REQUIRED") {
            cause = "the server refused the handshake; check the kubeconfig's client certificate and key"
        } else {
            cause =
                "the handshake failed; check the kubeconfig's certificate-authority and client certificate"
        }
        return cause
    }

    /// A short cause for a failed connection.
    static func connectionProblem(_ text: String) -> String {
        let lower = text.lowercased()
        if lower.contains("refused") { return "connection refused" }
        if lower.contains("timed out") || lower.contains("timeout") { return "the connection timed out" }
        if lower.contains("resolve") || lower.contains("lookup") || lower.contains("name or service") {
            return "the host name cannot be resolved"
        }
        if lower.contains("unreachable") { return "the network is unreachable" }
        if lower.contains("closed") || lower.contains("reset") { return "the connection was closed" }
        return String(text.prefix(200))
    }
}
