import Foundation
import WherryModel

extension KubeClientConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Server, source, namespace and the kinds of credentials; never a token, password or key.
    public var description: String {
        var parts = [
            "server: \(Self.displayed(server.absoluteString))", "source: \(source)", "namespace: \(namespace)",
        ]
        if let tlsServerName { parts.append("tls-server-name: \(tlsServerName)") }
        if let certificateAuthority { parts.append("certificate authority: \(certificateAuthority.count) bytes") }
        if insecureSkipTLSVerify { parts.append("insecure-skip-tls-verify") }
        if let clientCertificate { parts.append(clientCertificate.description) }
        parts.append("credentials: \(credentials)")
        if let proxyURL { parts.append("proxy-url: \(Self.displayed(proxyURL))") }
        return "KubeClientConfig(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// The same fields `description` shows, so `dump` cannot reach a secret either.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "server": Self.displayed(server.absoluteString), "source": source.description, "namespace": namespace,
                "tlsServerName": tlsServerName as Any, "certificateAuthorityBytes": certificateAuthority?.count as Any,
                "insecureSkipTLSVerify": insecureSkipTLSVerify,
                "clientCertificate": clientCertificate?.description as Any, "credentials": credentials.description,
                "proxyURL": proxyURL.map(Self.displayed) as Any,
            ], displayStyle: .struct)
    }

    /// A URL without the credentials it may embed (`http://user:pass@proxy` shows as `http://***@proxy`).
    static func displayed(_ url: String) -> String {
        URLRedaction.redact(url, userInfo: .mask)
    }
}
