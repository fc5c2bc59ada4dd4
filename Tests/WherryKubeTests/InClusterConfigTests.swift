import Foundation
import Testing
import WherryKube
import WherryTesting

@Suite("In-cluster configuration from the pod's service account")
struct InClusterConfigTests {
    private typealias Fixture = KubeConfigFixture

    private func serviceAccount(in directory: TemporaryDirectory, namespace: String? = "apps") throws -> String {
        try directory.write("sa/token", "pod-token\n")
        try directory.write("sa/ca.crt", Fixture.caPEM)
        if let namespace { try directory.write("sa/namespace", namespace) }
        return "\(directory.path)/sa"
    }

    private func loader(_ directory: TemporaryDirectory, _ environment: [String: String]) -> KubeConfigLoader {
        KubeConfigLoader(
            environment: environment, homeDirectory: "\(directory.path)/no-home",
            serviceAccountDirectory: "\(directory.path)/sa")
    }

    @Test("IPv4 host: server URL, CA, rotating token file and namespace from the mount")
    func ipv4() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let mount = try serviceAccount(in: directory)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let config = try loader(directory, environment).load()
        #expect(config.server.absoluteString == "https://10.96.0.1:443")
        #expect(config.certificateAuthority == Data(Fixture.caPEM.utf8))
        #expect(config.credentials == .bearerTokenFile(KubeClientConfig.TokenFile(path: "\(mount)/token")))
        #expect(config.namespace == "apps")
        #expect(config.source == .inCluster(serviceAccountDirectory: mount))
        #expect(config.contextName == nil)
        #expect(try config.currentBearerToken()?.value == "pod-token")
        try directory.write("sa/token", "next-pod-token")
        #expect(try config.currentBearerToken()?.value == "next-pod-token")
    }

    @Test("IPv6 host gets brackets; POD_NAMESPACE wins; no namespace file means default")
    func ipv6() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        _ = try serviceAccount(in: directory, namespace: nil)
        var environment = ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"]
        let config = try loader(directory, environment).load()
        #expect(config.server.absoluteString == "https://[fd00:10:96::1]:6443")
        #expect(config.server.port == 6443)
        #expect(config.namespace == "default")
        environment["POD_NAMESPACE"] = "from-downward-api"
        #expect(try loader(directory, environment).load().namespace == "from-downward-api")
    }

    @Test("a kubeconfig, when there is one, comes before the in-cluster config")
    func kubeconfigFirst() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        _ = try serviceAccount(in: directory)
        try directory.write("no-home/.kube/config", Fixture.single("home"))
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        #expect(try loader(directory, environment).load().contextName == "home")
    }

    @Test("in a pod without a mounted token, the error says what to mount")
    func missingToken() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let error = try #require(throws: KubeConfigError.self) { try loader(directory, environment).load() }
        #expect(error.message == "in-cluster: token file \(directory.path)/sa/token does not exist")
        #expect(error.hint?.contains("automountServiceAccountToken") == true)

        let badPort = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "https"]
        let portError = try #require(throws: KubeConfigError.self) { try loader(directory, badPort).load() }
        #expect(portError.message == "KUBERNETES_SERVICE_PORT 'https' is not a port number")
    }
}
