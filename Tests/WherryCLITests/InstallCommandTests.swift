import Foundation
import Testing
import WherryModel
import WherryRender
import WherryTesting

@Suite("wherry install --dry-run")
struct InstallCommandTests {
    private static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")

    /// A config with every kind of credential: an inline token, a token from the environment, an SSH key file, a
    /// notification URL, and API and webhook secrets from the environment.
    private static let config = """
        github_configs:
          nokube:
            repo_owner: AI-Infra-Team
            repo_name: nokube
            token: ghp_inline_secret_value
          site:
            url: git@github.com:org/site.git
            ssh_key_file: deploy-key
          other:
            url: https://git.example.com/other.git
            token_env: OTHER_TOKEN
        services:
          - {name: etcd, github: nokube, k8s_yaml_dir: examples/etcd}
          - {name: site, github: site, k8s_yaml_dir: deploy}
          - {name: other, github: other, k8s_yaml_dir: deploy}
        poll_interval: 60
        webhook_url: https://hooks.example.com/services/T0/B0/notification-secret
        api_token_env: WHERRY_API_TOKEN
        webhook_secret_env: WHERRY_WEBHOOK_SECRET
        """

    private static let secretValues = [
        "ghp_inline_secret_value", "notification-secret", "other-token-value", "api-token-value", "hook-secret-value",
        "PRIVATE KEY",
    ]

    private func install(_ extra: [String]) async throws -> (stdout: String, stderr: String, objects: [KubeObject]) {
        let work = try TemporaryDirectory(prefix: "install")
        defer { work.remove() }
        let config = try work.write("gitops-config.yaml", Self.config)
        try work.write("deploy-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
        let out = try await CLI.run(
            ["install", "--cluster-name", "home", "--config-file", config, "--dry-run"] + extra,
            environment: [
                "OTHER_TOKEN": "other-token-value", "WHERRY_API_TOKEN": "api-token-value",
                "WHERRY_WEBHOOK_SECRET": "hook-secret-value",
            ])
        #expect(out.exitCode == 0, "\(out.stderr)")
        return (out.stdout, out.stderr, try ManifestReader.objects(from: out.stdout, file: "install.yaml"))
    }

    private func compare(_ output: String, golden name: String) throws {
        let path = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["WHERRY_UPDATE_GOLDEN"] != nil {
            try output.write(to: path, atomically: true, encoding: .utf8)
        }
        #expect(output == (try String(contentsOf: path, encoding: .utf8)), "golden \(name) differs")
    }

    @Test("default: a Deployment of two with leader election, least-privilege RBAC, no secret outside the Secret")
    func deployment() async throws {
        let (stdout, _, objects) = try await install([])
        try compare(stdout, golden: "install-deployment.yaml")
        #expect(
            objects.map(\.ref.description) == [
                "Namespace/wherry-system", "ServiceAccount/wherry-system/wherry", "ClusterRole/wherry",
                "ClusterRoleBinding/wherry", "Role/wherry-system/wherry-self", "RoleBinding/wherry-system/wherry-self",
                "ConfigMap/wherry-system/wherry-config", "Secret/wherry-system/wherry-secrets",
                "Deployment/wherry-system/wherry", "Service/wherry-system/wherry",
            ])
        // No secret value in clear anywhere; the Secret holds them, base64-encoded.
        for value in Self.secretValues { #expect(!stdout.contains(value), "\(value)") }
        let secret = try #require(objects.first { $0.kind == "Secret" })
        let keys = secret.body["data"]?.objectValue?.keys ?? []
        #expect(
            keys.sorted() == [
                "OTHER_TOKEN", "WHERRY_API_TOKEN", "WHERRY_TOKEN_NOKUBE", "WHERRY_WEBHOOK_SECRET", "WHERRY_WEBHOOK_URL",
                "ssh-key-site",
            ])
        let decoded = secret.body["data"]?["WHERRY_TOKEN_NOKUBE"]?.stringValue.flatMap { Data(base64Encoded: $0) }
        #expect(decoded.map { String(decoding: $0, as: UTF8.self) } == "ghp_inline_secret_value")
        let rules = objects.first { $0.kind == "ClusterRole" }?.body["rules"]?.arrayValue ?? []
        #expect(rules.first?["verbs"] == ["get", "list", "watch", "create", "patch", "delete"])
        let pod = objects.first { $0.kind == "Deployment" }?.body["spec"]?["template"]?["spec"]
        let container = pod?["containers"]?.arrayValue?.first
        #expect(container?["args"]?.arrayValue?.contains("--leader-elect") == true)
        #expect(container?["securityContext"]?["readOnlyRootFilesystem"] == true)
        #expect(container?["securityContext"]?["runAsNonRoot"] == true)
        // The drain (--shutdown-timeout) fits in the grace period, with room for what is cancelled at its end.
        let arguments = container?["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let timeout = arguments.firstIndex(of: "--shutdown-timeout").flatMap { Int(arguments[$0 + 1]) }
        #expect(timeout == 25)
        #expect(pod?["terminationGracePeriodSeconds"] == 35)
    }

    @Test("--daemonset: the seed's DaemonSet on management nodes; --namespaces: Roles, no ClusterRole")
    func daemonSet() async throws {
        let (stdout, _, objects) = try await install(["--daemonset", "--namespaces", "apps,web"])
        try compare(stdout, golden: "install-daemonset.yaml")
        #expect(!objects.contains { $0.kind == "ClusterRole" || $0.kind == "Deployment" })
        #expect(
            objects.filter { $0.kind == "Role" }.map(\.ref.description).sorted() == [
                "Role/apps/wherry", "Role/web/wherry", "Role/wherry-system/wherry-self",
            ])
        let daemonSet = try #require(objects.first { $0.kind == "DaemonSet" })
        let term = daemonSet.body["spec"]?["template"]?["spec"]?["affinity"]?["nodeAffinity"]?[
            "requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?.arrayValue?.first
        #expect(term?["matchExpressions"]?.arrayValue?.first?["key"] == "node-role.nokube.io/management")
    }

    @Test("a state volume means one replica, recreated; a missing credential file is an error")
    func stateVolumeAndErrors() async throws {
        let (_, _, objects) = try await install(["--state-volume-size", "2Gi"])
        #expect(objects.contains { $0.kind == "PersistentVolumeClaim" })
        let deployment = try #require(objects.first { $0.kind == "Deployment" })
        #expect(deployment.body["spec"]?["replicas"] == 1)
        #expect(deployment.body["spec"]?["strategy"]?["type"] == "Recreate")
        let work = try TemporaryDirectory(prefix: "install")
        defer { work.remove() }
        let config = try work.write("gitops-config.yaml", Self.config)
        let out = try await CLI.run(["install", "--cluster-name", "home", "--config-file", config, "--dry-run"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("deploy-key (named in"), "\(out.stderr)")
        #expect(out.stdout.isEmpty)
    }
}
