import Foundation
import Testing
import WherryKube
import WherryModel
import WherryTesting

@Suite("Certificates: CA, client certificate and key")
struct KubeConfigTLSTests {
    private typealias Fixture = KubeConfigFixture

    @Test("a relative certificate-authority resolves against the directory of the file that defined it")
    func relativeAuthority() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("team/certs/ca.pem", Fixture.caPEM)
        let defining = try directory.write(
            "team/configs/cluster.yaml",
            """
            clusters:
            - name: prod
              cluster:
                server: https://prod:6443
                certificate-authority: ../certs/ca.pem
                tls-server-name: api.prod.internal
            """)
        let contexts = try directory.write(
            "elsewhere/contexts.yaml",
            "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: u}\n"
                + "current-context: prod\n")
        let loader = Fixture.loader(in: directory, environment: ["KUBECONFIG": "\(contexts):\(defining)"])
        let merged = try #require(try loader.kubeConfig())
        #expect(merged.clusters["prod"]?.certificateAuthority == "\(directory.path)/team/certs/ca.pem")
        let config = try loader.load()
        #expect(config.certificateAuthority == Data(Fixture.caPEM.utf8))
        #expect(config.tlsServerName == "api.prod.internal")
        #expect(!config.insecureSkipTLSVerify)
    }

    @Test("certificate-authority-data is base64-decoded; line-wrapped base64 is fine")
    func authorityData() throws {
        var encoded = Fixture.base64(Fixture.caPEM)
        encoded.insert(contentsOf: "\n      ", at: encoded.index(encoded.startIndex, offsetBy: 20))
        let text = Fixture.single("c", cluster: "    certificate-authority-data: |\n      \(encoded)\n")
        let config = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/").clientConfig()
        #expect(config.certificateAuthority == Data(Fixture.caPEM.utf8))
    }

    @Test("bad base64 is an error naming the file, line and field")
    func badBase64() throws {
        let text = Fixture.single("c", cluster: "    certificate-authority-data: not*base64!\n")
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(text, file: "/home/u/.kube/config", baseDirectory: "/home/u/.kube")
        }
        #expect(
            error.description.hasPrefix(
                "/home/u/.kube/config:7:33: clusters[c].certificate-authority-data: is not valid base64"))
    }

    @Test("data that is not PEM (base64 applied twice) is caught before any TLS handshake")
    func notPEM() throws {
        let twice = Fixture.base64(Fixture.base64(Fixture.caPEM))
        let text = Fixture.single("c", cluster: "    certificate-authority-data: \(twice)\n")
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/").clientConfig()
        }
        #expect(error.field == "clusters[c].certificate-authority-data")
        #expect(error.message == "does not hold a PEM certificate (no -----BEGIN line)")
    }

    @Test("insecure-skip-tls-verify with a CA is refused, as kubectl refuses it; alone it is kept")
    func insecure() throws {
        let both = Fixture.single(
            "c",
            cluster:
                "    insecure-skip-tls-verify: true\n    certificate-authority-data: \(Fixture.base64(Fixture.caPEM))\n"
        )
        let error = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(both, file: "k.yaml", baseDirectory: "/").clientConfig()
        }
        #expect(error.field == "clusters[c].insecure-skip-tls-verify")
        let alone = Fixture.single("c", cluster: "    insecure-skip-tls-verify: yes\n")
        #expect(try KubeConfig.parse(alone, file: "k.yaml", baseDirectory: "/").clientConfig().insecureSkipTLSVerify)
    }

    @Test("client certificate and key given as data")
    func clientCertificateData() throws {
        let user = """
                client-certificate-data: \(Fixture.base64(Fixture.certificatePEM))
                client-key-data: \(Fixture.base64(Fixture.keyPEM))

            """
        let config = try KubeConfig.parse(Fixture.single("c", user: user), file: "k.yaml", baseDirectory: "/")
            .clientConfig()
        let pair = try #require(config.clientCertificate)
        #expect(pair.certificate == Data(Fixture.certificatePEM.utf8))
        #expect(pair.key.value == Data(Fixture.keyPEM.utf8))
        #expect(config.credentials == .none)
    }

    @Test("client certificate and key given as files, relative to the kubeconfig; a token may come with them")
    func clientCertificateFiles() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("kube/pki/client.crt", Fixture.certificatePEM)
        try directory.write("kube/pki/client.key", Fixture.keyPEM)
        let file = try directory.write(
            "kube/config",
            Fixture.single(
                "c", user: "    client-certificate: pki/client.crt\n    client-key: pki/client.key\n    token: t\n"))
        let config = try Fixture.loader(in: directory).load(explicitPath: file)
        #expect(config.clientCertificate?.certificate == Data(Fixture.certificatePEM.utf8))
        #expect(config.clientCertificate?.key.value == Data(Fixture.keyPEM.utf8))
        #expect(config.credentials == .bearerToken(Redacted("t")))
    }

    @Test("an unreadable client-key file is reported with the file, the field and the path")
    func missingKeyFile() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("kube/client.crt", Fixture.certificatePEM)
        let file = try directory.write(
            "kube/config",
            Fixture.single("alice", user: "    client-certificate: client.crt\n    client-key: /x/key.pem\n"))
        let error = try #require(throws: KubeConfigError.self) {
            try Fixture.loader(in: directory).load(explicitPath: file)
        }
        #expect(error.description.hasPrefix("\(file):11:5: users[alice].client-key: file /x/key.pem does not exist"))
    }

    @Test("a certificate without a key, or a key set twice, is refused")
    func incompletePairs() throws {
        let certificateOnly = Fixture.single(
            "c", user: "    client-certificate-data: \(Fixture.base64(Fixture.certificatePEM))\n")
        let alone = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(certificateOnly, file: "k.yaml", baseDirectory: "/").clientConfig()
        }
        #expect(alone.message == "a client certificate is set without its key")

        let twice = Fixture.single(
            "c",
            user: "    client-certificate-data: \(Fixture.base64(Fixture.certificatePEM))\n"
                + "    client-key: /k.pem\n    client-key-data: \(Fixture.base64(Fixture.keyPEM))\n")
        let both = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(twice, file: "k.yaml", baseDirectory: "/").clientConfig()
        }
        #expect(both.field == "users[c].client-key-data")
        #expect(both.message == "both client-key and client-key-data are set")
    }
}
