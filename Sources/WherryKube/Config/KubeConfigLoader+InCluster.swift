import Foundation
import WherryModel

extension KubeConfigLoader {
    /// The pod's service-account configuration, as client-go builds it: `https://$KUBERNETES_SERVICE_HOST:PORT`,
    /// the mounted CA, the mounted token (kept as a file: the kubelet rotates it) and the mounted namespace
    /// (`$POD_NAMESPACE` first, else `default`). `nil` when not running in a pod.
    public func inClusterConfig() throws(KubeConfigError) -> KubeClientConfig? {
        var tried: [String] = []
        return try inClusterConfig(tried: &tried)
    }

    func inClusterConfig(tried: inout [String]) throws(KubeConfigError) -> KubeClientConfig? {
        let host = environment["KUBERNETES_SERVICE_HOST"] ?? ""
        let port = environment["KUBERNETES_SERVICE_PORT"] ?? ""
        guard !host.isEmpty, !port.isEmpty else {
            let missing = host.isEmpty ? "KUBERNETES_SERVICE_HOST" : "KUBERNETES_SERVICE_PORT"
            tried.append("in-cluster (\(missing) is not set, so this is not a pod)")
            return nil
        }
        let inPod = "KUBERNETES_SERVICE_HOST is set, so this looks like a pod"
        guard let number = Int(port), (1...65535).contains(number) else {
            throw KubeConfigError(
                "KUBERNETES_SERVICE_PORT '\(port)' is not a port number", field: "environment",
                hint: "\(inPod); set it to the API server port, e.g. 443")
        }
        // IPv6 addresses need brackets in a URL, as Go's net.JoinHostPort adds them.
        let urlHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let server = URL(string: "https://\(urlHost):\(number)"), server.host != nil else {
            throw KubeConfigError(
                "KUBERNETES_SERVICE_HOST '\(host)' is not a host name or address", field: "environment",
                hint: "\(inPod); unset it or set it to the API server address")
        }
        let directory = serviceAccountDirectory
        let mounted = "mount the service account token (automountServiceAccountToken: true), or pass --kubeconfig"
        let token = KubeClientConfig.TokenFile(path: file("token"))
        do {
            _ = try token.read()
        } catch {
            throw KubeConfigError(
                "in-cluster: \(error.message)", location: error.location, field: error.field,
                hint: "\(inPod); \(mounted)")
        }
        let authority = try FileContents.data(
            file("ca.crt"), location: nil, field: nil, what: "in-cluster: CA certificate", hint: "\(inPod); \(mounted)")
        return KubeClientConfig(
            server: server, certificateAuthority: authority, credentials: .bearerTokenFile(token),
            namespace: try podNamespace(), source: .inCluster(serviceAccountDirectory: directory))
    }

    /// `$POD_NAMESPACE`, else the mounted `namespace` file, else `default`, as client-go decides it.
    private func podNamespace() throws(KubeConfigError) -> String {
        if let namespace = environment["POD_NAMESPACE"], !namespace.isEmpty { return namespace }
        let path = file("namespace")
        guard FileContents.exists(path) else { return "default" }
        let text = try FileContents.text(path, location: nil, field: nil, what: "in-cluster: namespace")
        let namespace = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return namespace.isEmpty ? "default" : namespace
    }

    private func file(_ name: String) -> String {
        URL(fileURLWithPath: serviceAccountDirectory).appendingPathComponent(name).path
    }
}
