import Foundation
import WherryKube
import WherryTesting

/// Kubeconfig text and PEM stand-ins for the kubeconfig tests. The PEM bodies are not real certificates:
/// loading only checks that they are PEM; parsing them is the TLS layer's job.
enum KubeConfigFixture {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIBcaFAKEca\n-----END CERTIFICATE-----\n"
    static let certificatePEM = "-----BEGIN CERTIFICATE-----\nMIIBclientFAKE\n-----END CERTIFICATE-----\n"
    static let keyPEM = "-----BEGIN PRIVATE KEY-----\nMIIEsecretKEYmaterial42\n-----END PRIVATE KEY-----\n"
    static let token = "eyJhbGciOiJSUzI1NiJ9.super-secret-token-value"

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// One context `name` using cluster `name` and user `name`; `cluster` and `user` are extra indented lines.
    static func single(
        _ name: String, server: String = "https://10.0.0.1:6443", cluster: String = "", user: String = "",
        namespace: String? = nil, current: Bool = true
    ) -> String {
        var text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(name)
              cluster:
                server: \(server)

            """
        text += cluster
        text += "users:\n- name: \(name)\n  user:\n"
        text += user.isEmpty ? "    username: nobody\n" : user
        text += "contexts:\n- name: \(name)\n  context:\n    cluster: \(name)\n    user: \(name)\n"
        if let namespace { text += "    namespace: \(namespace)\n" }
        if current { text += "current-context: \(name)\n" }
        return text
    }

    /// A loader that sees only what the test gives it: no process environment, no real home, no real pod.
    static func loader(
        in directory: TemporaryDirectory, environment: [String: String] = [:], home: String? = nil
    ) -> KubeConfigLoader {
        KubeConfigLoader(
            environment: environment, homeDirectory: home ?? "\(directory.path)/no-home",
            serviceAccountDirectory: "\(directory.path)/no-serviceaccount")
    }
}
