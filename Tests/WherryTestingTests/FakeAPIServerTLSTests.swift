import Testing
import WherryModel
import WherryTesting

/// HTTPS with client certificates required, against certificates made by ``TestCertificates``.
@Suite struct FakeAPIServerTLSTests {
    @Test func requiresAClientCertificateSignedByTheCA() async throws {
        let certificates = try await TestCertificates()
        let files = try TemporaryDirectory(prefix: "tls")
        defer { files.remove() }
        let ca = try files.write("ca.crt", certificates.caCertificatePEM)
        let cert = try files.write("client.crt", certificates.clientCertificatePEM)
        let key = try files.write("client.key", certificates.clientKeyPEM)
        let otherCA = try files.write("other-ca.crt", certificates.otherCACertificatePEM)
        let otherCert = try files.write("other.crt", certificates.otherClientCertificatePEM)
        let otherKey = try files.write("other.key", certificates.otherClientKeyPEM)

        try await FakeAPIServer.withServer(tls: certificates.serverTLS()) { server in
            #expect(server.baseURL.hasPrefix("https://127.0.0.1:"))
            let url = server.baseURL + "/api"
            let trusted = try await Curl.get(url, extra: ["--cacert", ca, "--cert", cert, "--key", key])
            #expect(trusted.exitCode == 0, "\(trusted.stderr)")
            #expect(trusted.status == 200)
            #expect(trusted.json["kind"] == "APIVersions")

            let port = server.baseURL.split(separator: ":").last.map(String.init) ?? ""
            let byName = try await Curl.get(
                "https://localhost:\(port)/api",
                extra: ["--cacert", ca, "--cert", cert, "--key", key, "--resolve", "localhost:\(port):127.0.0.1"])
            #expect(byName.status == 200, "\(byName.stderr)")

            let anonymous = try await Curl.get(url, extra: ["--cacert", ca])
            #expect(anonymous.exitCode != 0)
            #expect(anonymous.status == 0)

            let strangerClient = try await Curl.get(
                url, extra: ["--cacert", ca, "--cert", otherCert, "--key", otherKey])
            #expect(strangerClient.exitCode != 0)
            #expect(strangerClient.status == 0)

            let wrongCA = try await Curl.get(url, extra: ["--cacert", otherCA, "--cert", cert, "--key", key])
            #expect(wrongCA.exitCode == 60, "\(wrongCA.stderr)")
        }
    }

    @Test func servesHTTPSWithoutClientCertificatesWhenNoClientCAIsSet() async throws {
        let certificates = try await TestCertificates()
        let files = try TemporaryDirectory(prefix: "tls")
        defer { files.remove() }
        let ca = try files.write("ca.crt", certificates.caCertificatePEM)
        try await FakeAPIServer.withServer(tls: certificates.serverTLS(requireClientCertificate: false)) { server in
            let result = try await Curl.get(server.baseURL + "/api/v1", extra: ["--cacert", ca])
            #expect(result.status == 200, "\(result.stderr)")
        }
    }
}
