import Foundation
import WherryExec

/// Throwaway X.509 material for TLS tests, made with the `openssl` CLI: a CA, a server certificate for
/// `127.0.0.1` and `localhost`, a client certificate (`CN=wherry-test`, `O=system:masters`) signed by the CA,
/// and a second, unrelated CA with a client certificate of its own. Keys are P-256 EC keys; everything is PEM.
public struct TestCertificates: Sendable {
    /// The CA that signed the server and client certificates.
    public let caCertificatePEM: String
    /// The server certificate (SANs `IP:127.0.0.1`, `DNS:localhost`).
    public let serverCertificatePEM: String
    /// The server's private key.
    public let serverKeyPEM: String
    /// The client certificate (`CN=wherry-test`, `O=system:masters`).
    public let clientCertificatePEM: String
    /// The client's private key.
    public let clientKeyPEM: String
    /// A CA that signed nothing the server uses: trusting it must fail, and so must its client certificate.
    public let otherCACertificatePEM: String
    /// A client certificate signed by the other CA.
    public let otherClientCertificatePEM: String
    /// The key of ``otherClientCertificatePEM``.
    public let otherClientKeyPEM: String

    /// Makes fresh certificates in a temporary directory (removed afterwards).
    public init() async throws {
        let directory = try TemporaryDirectory(prefix: "certs")
        defer { directory.remove() }
        let dir = directory.path
        try await Self.makeCA("ca", commonName: "wherry-test-ca", in: dir)
        try await Self.makeCA("other-ca", commonName: "wherry-other-ca", in: dir)
        try await Self.makeLeaf(
            "server", subject: "/CN=127.0.0.1", ca: "ca", usage: "serverAuth",
            altNames: "subjectAltName = IP:127.0.0.1,DNS:localhost", in: dir)
        try await Self.makeLeaf(
            "client", subject: "/O=system:masters/CN=wherry-test", ca: "ca", usage: "clientAuth", in: dir)
        try await Self.makeLeaf(
            "other-client", subject: "/O=system:masters/CN=wherry-test", ca: "other-ca", usage: "clientAuth", in: dir)
        func read(_ name: String) throws -> String { try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8) }
        caCertificatePEM = try read("ca.crt")
        serverCertificatePEM = try read("server.crt")
        serverKeyPEM = try read("server.key")
        clientCertificatePEM = try read("client.crt")
        clientKeyPEM = try read("client.key")
        otherCACertificatePEM = try read("other-ca.crt")
        otherClientCertificatePEM = try read("other-client.crt")
        otherClientKeyPEM = try read("other-client.key")
    }

    /// TLS settings for ``FakeAPIServer``: the server certificate and, unless turned off, client certificates
    /// required and verified against the CA.
    public func serverTLS(requireClientCertificate: Bool = true) -> FakeAPIServer.TLS {
        FakeAPIServer.TLS(
            certificateChainPEM: serverCertificatePEM, privateKeyPEM: serverKeyPEM,
            clientCAPEM: requireClientCertificate ? caCertificatePEM : nil)
    }

    /// A self-signed CA: `<name>.crt`, `<name>.key`, and `<name>.cnf` for requests.
    private static func makeCA(_ name: String, commonName: String, in dir: String) async throws {
        let config = """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = \(commonName)
            [ca]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            """
        try config.write(toFile: "\(dir)/\(name).cnf", atomically: true, encoding: .utf8)
        try await openssl(
            [
                "req", "-x509", "-config", "\(name).cnf", "-extensions", "ca", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key", "-out", "\(name).crt", "-days",
                "3650",
            ], in: dir)
    }

    /// A key and a certificate for it signed by `ca`, with the given extended key usage and SANs.
    private static func makeLeaf(
        _ name: String, subject: String, ca: String, usage: String, altNames: String = "", in dir: String
    ) async throws {
        let extensions = """
            [leaf]
            basicConstraints = critical,CA:FALSE
            keyUsage = critical,digitalSignature
            extendedKeyUsage = \(usage)
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            \(altNames)
            """
        try extensions.write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
        try await openssl(
            [
                "req", "-new", "-config", "\(ca).cnf", "-subj", subject, "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
            ], in: dir)
        try await openssl(
            [
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-set_serial",
                String(UInt64.random(in: 1...UInt64(Int64.max))), "-days", "3650", "-extfile", "\(name).ext",
                "-extensions", "leaf", "-out", "\(name).crt",
            ], in: dir)
    }

    /// Runs `openssl` in `dir`; a failure throws with its standard error.
    private static func openssl(_ arguments: [String], in dir: String) async throws {
        let result = try await CommandRunner.run(
            Command("openssl", arguments, workingDirectory: dir, timeout: .seconds(60)))
        guard result.succeeded else {
            throw FixtureError("openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}
