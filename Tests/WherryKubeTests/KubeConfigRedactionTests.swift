import Foundation
import Testing
import WherryKube
import WherryModel
import WherryTesting

@Suite("Secrets never appear in descriptions or errors")
struct KubeConfigRedactionTests {
    private typealias Fixture = KubeConfigFixture

    private static let password = "pa55-w0rd-value"

    /// Every way a value can be printed.
    private func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), "\(value)", dumped]
    }

    private func expectNoSecrets(_ texts: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let keyBody = "MIIEsecretKEYmaterial42"
        for text in texts {
            for secret in [Fixture.token, Self.password, keyBody, Fixture.base64(Fixture.keyPEM)] {
                #expect(!text.contains(secret), "leaked in: \(text)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("the resolved config, its credentials and the parsed kubeconfig print no token, key or password")
    func resolvedConfig() throws {
        let user = """
                token: \(Fixture.token)
                client-certificate-data: \(Fixture.base64(Fixture.certificatePEM))
                client-key-data: \(Fixture.base64(Fixture.keyPEM))

            """
        let kubeconfig = try KubeConfig.parse(
            Fixture.single("c", server: "https://c:6443", user: user), file: "k.yaml", baseDirectory: "/")
        let config = try kubeconfig.clientConfig()
        #expect(try config.currentBearerToken()?.value == Fixture.token)
        let description = String(describing: config)
        #expect(description.contains("server: https://c:6443"))
        #expect(description.contains("bearer token ***"))
        expectNoSecrets(renderings(config))
        expectNoSecrets(renderings(config.credentials))
        expectNoSecrets(renderings(try #require(config.clientCertificate)))
        expectNoSecrets(renderings(kubeconfig))
        expectNoSecrets(renderings(try #require(kubeconfig.users["c"])))
        expectNoSecrets(renderings(Redacted(Fixture.token)))

        let basic = try KubeConfig.parse(
            Fixture.single("b", user: "    username: admin\n    password: \(Self.password)\n"), file: "k.yaml",
            baseDirectory: "/"
        ).clientConfig()
        expectNoSecrets(renderings(basic))
    }

    @Test("credentials in a proxy URL are hidden")
    func proxyCredentials() throws {
        let text = Fixture.single("c", cluster: "    proxy-url: http://me:\(Self.password)@proxy:3128\n")
        let config = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/").clientConfig()
        #expect(config.proxyURL == "http://me:\(Self.password)@proxy:3128")
        #expect(config.description.contains("proxy-url: http://***@proxy:3128"))
        expectNoSecrets(renderings(config))
    }

    @Test("errors about secret fields name the field, never the value")
    func errorsNoSecrets() throws {
        var errors: [KubeConfigError] = []
        let cases = [
            Fixture.single("c", user: "    username: u\n    password: \(Self.password)\n    token: \(Fixture.token)\n"),
            Fixture.single("c", user: "    token: \(Fixture.token)\n    exec: {command: x}\n"),
            Fixture.single("c", user: "    client-key-data: \(Fixture.token)\n"),
            Fixture.single("c", user: "    client-key-data: \(Fixture.base64(Fixture.token))\n"),
            Fixture.single("c", user: "    token: [\(Fixture.token)]\n"),
            Fixture.single("c", user: "    token: \(Fixture.token)\n", namespace: "Bad_Namespace"),
        ]
        for text in cases {
            do {
                _ = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/").clientConfig()
                Issue.record("expected an error for:\n\(text)")
            } catch {
                errors.append(error)
            }
        }
        #expect(errors.count == cases.count)
        expectNoSecrets(errors.flatMap { renderings($0) + [$0.message, $0.hint ?? ""] })
    }
}
