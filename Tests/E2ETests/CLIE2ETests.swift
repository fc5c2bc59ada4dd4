import Foundation
import Testing
import WherryExec
import WherryModel
import WherryTesting

/// The `wherry` binary on the real cluster, run as a user would (issue 17: check, diff --path, validate --server,
/// errors).
@Suite(
    "E2E: wherry commands on a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct CLIE2ETests {
    let admin = E2ECluster.kubeconfig

    /// `wherry` beside the test bundle (the products directory of this build).
    static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("wherry").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
        }
        return url.path + "/.build/debug/wherry"
    }()

    private func wherry(_ arguments: [String]) async throws -> CommandResult {
        try await CommandRunner.run(Command(Self.binary, arguments, timeout: .seconds(120)))
    }

    private func kubectl(_ arguments: [String]) async throws -> String {
        let result = try await CommandRunner.run(Command("kubectl", ["--kubeconfig", admin] + arguments))
        guard result.succeeded else {
            throw FixtureError("kubectl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdoutText
    }

    /// A kubeconfig for a ServiceAccount: the admin kubeconfig's server and CA, the account's token.
    private func serviceAccountKubeconfig(
        _ account: String, namespace: String, in work: TemporaryDirectory
    ) async throws -> String {
        let token = try await kubectl(["create", "token", account, "-n", namespace, "--duration", "1h"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let view = try JSONValue.parse(try await kubectl(["config", "view", "--raw", "--minify", "-o", "json"]))
        let cluster = view["clusters"]?.arrayValue?.first?["cluster"]
        let server = cluster?["server"]?.stringValue ?? ""
        let ca = cluster?["certificate-authority-data"]?.stringValue ?? ""
        return try work.write(
            "sa-kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "\(server)", certificate-authority-data: "\(ca)"}}]
            users: [{name: sa, user: {token: "\(token)"}}]
            contexts: [{name: limited, context: {cluster: c, user: sa}}]
            current-context: limited
            """)
    }

    @Test("check passes as the admin, and as a ServiceAccount that may only read ConfigMaps names what is missing")
    func check() async throws {
        let namespace = "e2e-17c-check"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "e2e-check")
        defer { remote.remove(); work.remove() }
        _ = try? await kubectl(["delete", "namespace", namespace, "--wait=false"])
        try await remote.commit([
            "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: \(namespace)\n"
        ])
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let common = ["-c", config, "--namespace", namespace, "--state-dir", work.path + "/state"]
        let asAdmin = try await wherry(["check", "--kubeconfig", admin] + common)
        #expect(asAdmin.exitCode == 0, "\(asAdmin.stdoutText)\(asAdmin.stderr)")
        #expect(asAdmin.stdoutText.contains("✓ API server "))
        #expect(
            asAdmin.stdoutText.contains(
                "✓ RBAC in namespace \(namespace): allowed to get, list, create, patch, delete configmaps"),
            "\(asAdmin.stdoutText)")

        _ = try await kubectl(["create", "namespace", namespace])
        _ = try await kubectl(["create", "serviceaccount", "reader", "-n", namespace])
        _ = try await kubectl([
            "create", "role", "reader", "-n", namespace, "--verb=get,list", "--resource=configmaps",
        ])
        _ = try await kubectl([
            "create", "rolebinding", "reader", "-n", namespace, "--role=reader",
            "--serviceaccount=\(namespace):reader",
        ])
        let limited = try await serviceAccountKubeconfig("reader", namespace: namespace, in: work)
        let asReader = try await wherry(["check", "--kubeconfig", limited] + common)
        #expect(asReader.exitCode == 1, "\(asReader.stdoutText)\(asReader.stderr)")
        #expect(
            asReader.stdoutText.contains(
                "✗ RBAC in namespace \(namespace): the user of context limited may not create, patch, delete configmaps"
            ), "\(asReader.stdoutText)")
        #expect(!asReader.stdoutText.contains("eyJ"), "the token is never printed")
        _ = try? await kubectl(["delete", "namespace", namespace, "--wait=false"])
    }

    @Test("diff --path shows an uncommitted change; sync --no-prune keeps what left Git until the next sync")
    func localDiffAndNoPrune() async throws {
        let namespace = "e2e-17c-local"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "e2e-local")
        defer { remote.remove(); work.remove() }
        func configMap(_ name: String, _ value: String) -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: \(namespace)\ndata:\n  k: \"\(value)\"\n"
        }
        try await remote.commit([
            "k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "k8s/a.yaml": configMap("a", "1"), "k8s/b.yaml": configMap("b", "1"), "k8s/c.yaml": configMap("c", "1"),
        ])
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: e2e-17c-local, github: r, k8s_yaml_dir: k8s}\n"
        )
        let common = [
            "-c", config, "--kubeconfig", admin, "--namespace", namespace + "-inv", "--state-dir", work.path + "/s",
        ]
        let first = try await wherry(["sync"] + common)
        #expect(first.exitCode == 0, "\(first.stderr)")
        let directory = remote.workPath + "/k8s"
        try configMap("a", "2").write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        let diff = try await wherry(["diff", "--service", "e2e-17c-local", "--path", directory] + common)
        #expect(diff.exitCode == 1, "\(diff.stderr)")
        #expect(diff.stdoutText.contains("+++ local \(directory)"), "\(diff.stdoutText)")
        #expect(diff.stdoutText.contains("-  k: \"1\"\n+  k: \"2\""), "\(diff.stdoutText)")
        try await remote.commit(["k8s/c.yaml": nil])
        let kept = try await wherry(["sync", "--no-prune"] + common)
        #expect(kept.exitCode == 0, "\(kept.stderr)")
        #expect(kept.stdoutText.contains("ConfigMap/\(namespace)/c kept (--no-prune)"), "\(kept.stdoutText)")
        #expect(try await kubectl(["get", "configmap", "c", "-n", namespace, "-o", "name"]).contains("c"))
        let pruned = try await wherry(["sync"] + common)
        #expect(pruned.stdoutText.contains("ConfigMap/\(namespace)/c deleted"), "\(pruned.stdoutText)")
        for name in [namespace, namespace + "-inv"] {
            _ = try? await kubectl(["delete", "namespace", name, "--wait=false"])
        }
    }

    @Test("an unknown field is said as such with its file and line, at sync and at validate --server")
    func unknownField() async throws {
        let namespace = "e2e-17c-field"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "e2e-field")
        defer { remote.remove(); work.remove() }
        try await remote.commit([
            "k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "k8s/bad.yaml":
                "# typo\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: \(namespace)\ndatta:\n  a: b\n",
        ])
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: e2e-17c-field, github: r, k8s_yaml_dir: k8s}\n"
        )
        let common = [
            "-c", config, "--kubeconfig", admin, "--namespace", namespace + "-inv", "--state-dir", work.path + "/s",
        ]
        let unchecked = try await wherry(["validate", "--server"] + common)
        #expect(unchecked.exitCode == 0, "\(unchecked.stderr)")
        #expect(
            unchecked.stdoutText.contains(
                "1 object valid on the server (server-side dry run), 1 not checked (their Namespace or CRD is created"),
            "\(unchecked.stdoutText)")
        _ = try await kubectl(["create", "namespace", namespace])
        let offline = try await wherry(["validate"] + common)
        #expect(offline.exitCode == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("syntax only"))
        let validate = try await wherry(["validate", "--server"] + common)
        #expect(validate.exitCode == 1)
        #expect(
            validate.stderr.contains("k8s/bad.yaml:2:1: ConfigMap/\(namespace)/bad: unknown field `datta`"),
            "\(validate.stderr)")
        let sync = try await wherry(["sync"] + common)
        #expect(sync.exitCode == 1)
        #expect(
            sync.stderr.contains("k8s/bad.yaml:2:1: ConfigMap/\(namespace)/bad: unknown field `datta`"),
            "\(sync.stderr)")
        #expect(!sync.stderr.contains("wrong type"), "\(sync.stderr)")
        for name in [namespace, namespace + "-inv"] {
            _ = try? await kubectl(["delete", "namespace", name, "--wait=false"])
        }
    }
}
