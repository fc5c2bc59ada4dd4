import Foundation

/// Finds the Kubernetes configuration the way kubectl does and resolves it into a ``KubeClientConfig``.
///
/// Order: an explicit path (`--kubeconfig`) alone; else every file in `$KUBECONFIG` (colon-separated, missing
/// ones skipped), merged; else `$HOME/.kube/config`; else the pod's service account (in-cluster). The
/// environment, home and service-account directories are injectable so tests never touch the real ones.
public struct KubeConfigLoader: Sendable {
    /// Where Kubernetes mounts a pod's service account token, CA and namespace.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The environment to read `KUBECONFIG`, `HOME` and `KUBERNETES_SERVICE_HOST`/`_PORT` from.
    public var environment: [String: String]
    /// The home directory holding `.kube/config`; `nil` when unknown (then that step is skipped).
    public var homeDirectory: String?
    /// The directory holding `token`, `ca.crt` and `namespace` in a pod.
    public var serviceAccountDirectory: String

    /// `environment` defaults to the process environment, `homeDirectory` to its `HOME`.
    public init(
        environment: [String: String]? = nil, homeDirectory: String? = nil, serviceAccountDirectory: String? = nil
    ) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        self.environment = environment
        self.homeDirectory = homeDirectory ?? environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        self.serviceAccountDirectory = serviceAccountDirectory ?? Self.defaultServiceAccountDirectory
    }

    /// Loads the configuration and resolves one context: `context` when given (`--context`), else the
    /// current context. In-cluster configuration has no contexts, so asking for one needs a kubeconfig.
    public func load(explicitPath: String? = nil, context: String? = nil) throws(KubeConfigError) -> KubeClientConfig {
        var tried: [String] = []
        if let config = try kubeConfig(explicitPath: explicitPath, tried: &tried) {
            return try config.clientConfig(context: context)
        }
        if context == nil, let inCluster = try inClusterConfig(tried: &tried) {
            return inCluster
        }
        let asked = context.map { "context '\($0)' was asked for, but no kubeconfig was found" }
        throw KubeConfigError(
            "\(asked ?? "no Kubernetes configuration found"); tried: \(tried.joined(separator: "; "))",
            hint: "pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run Wherry in a pod "
                + "with a service account")
    }

    /// The kubeconfig that applies, merged; `nil` when there is none (no file, or only empty files), which is
    /// when kubectl falls back to in-cluster. An explicit path must exist.
    public func kubeConfig(explicitPath: String? = nil) throws(KubeConfigError) -> KubeConfig? {
        var tried: [String] = []
        return try kubeConfig(explicitPath: explicitPath, tried: &tried)
    }

    private func kubeConfig(explicitPath: String?, tried: inout [String]) throws(KubeConfigError) -> KubeConfig? {
        if let explicitPath {
            guard FileContents.exists(explicitPath) else {
                throw KubeConfigError(
                    "kubeconfig file \(explicitPath) (from --kubeconfig) does not exist",
                    hint: "check the path, or leave out --kubeconfig to use KUBECONFIG or ~/.kube/config")
            }
            return try KubeConfig.load(path: explicitPath)
        }
        let listed = kubeconfigList
        if !listed.isEmpty {
            let present = listed.filter(FileContents.exists)
            guard !present.isEmpty else {
                tried.append("KUBECONFIG (\(listed.joined(separator: ", ")): none exists)")
                return nil
            }
            var configs: [KubeConfig] = []
            for path in present { configs.append(try KubeConfig.load(path: path)) }
            let merged = KubeConfig.merging(configs)
            guard !merged.isEmpty else {
                tried.append("KUBECONFIG (\(present.joined(separator: ", ")): empty)")
                return nil
            }
            return merged
        }
        guard let homeDirectory else {
            tried.append("~/.kube/config (HOME is not set)")
            return nil
        }
        let home = URL(fileURLWithPath: homeDirectory).appendingPathComponent(".kube/config").path
        guard FileContents.exists(home) else {
            tried.append("\(home) (does not exist)")
            return nil
        }
        let config = try KubeConfig.load(path: home)
        guard !config.isEmpty else {
            tried.append("\(home) (empty)")
            return nil
        }
        return config
    }

    /// `$KUBECONFIG` split on `:`, empty entries and repeats left out (kubectl loads each file once).
    var kubeconfigList: [String] {
        var seen: Set<String> = []
        return (environment["KUBECONFIG"] ?? "").split(separator: ":").map(String.init).filter {
            !$0.isEmpty && seen.insert($0).inserted
        }
    }
}
