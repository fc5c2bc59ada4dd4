import Foundation
import Testing
import WherryTesting

@Suite("Shell completion, Examples in every --help, and environment defaults")
struct CompletionAndHelpTests {
    @Test("completion prints a script for each shell that knows the subcommands; another shell is a usage error")
    func completion() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let out = try await CLI.run(["completion", shell])
            #expect(out.exitCode == 0, "\(shell): \(out.stderr)")
            #expect(out.stdout.contains("wherry"), "\(shell)")
            for command in ["sync", "check", "completion"] {
                #expect(out.stdout.contains(command), "\(shell) script lacks \(command)")
            }
        }
        #expect(try await CLI.run(["completion", "bash"]).stdout.contains("complete"))
        #expect(try await CLI.run(["completion", "zsh"]).stdout.hasPrefix("#compdef wherry"))
        let other = try await CLI.run(["completion", "tcsh"])
        #expect(other.exitCode == 2)
    }

    @Test(
        "every command's --help has an Examples block",
        arguments: [
            "render", "validate", "diff", "sync", "run", "status", "prune", "install", "completion", "check", "tree",
            "history", "events", "reconcile", "suspend", "resume", "wait", "version",
        ])
    func examples(command: String) async throws {
        let out = try await CLI.run([command, "--help"])
        #expect(out.exitCode == 0)
        #expect(out.stdout.contains("Examples:\n  wherry \(command)"), "\(out.stdout)")
    }

    @Test("WHERRY_CONFIG names the config when -c is not given, before GITOPS_CONFIG")
    func configFromEnvironment() async throws {
        let remote = try await GitRemoteFixture()
        try await remote.commit(["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-env\n"])
        let work = try TemporaryDirectory(prefix: "env")
        defer { remote.remove(); work.remove() }
        let config = try work.write(
            "mine.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let out = try await CLI.run(
            ["render", "--state-dir", work.path + "/s"],
            environment: ["WHERRY_CONFIG": config, "GITOPS_CONFIG": work.path + "/other.yaml"], in: work.path)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("name: from-env"))
    }

    @Test("WHERRY_NAMESPACE is where inventories go when --namespace is not given; --namespace wins")
    func namespaceFromEnvironment() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            try await remote.commit([
                "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n"
            ])
            let work = try TemporaryDirectory(prefix: "env")
            defer { remote.remove(); work.remove() }
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
            )
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let common = ["sync", "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/s"]
            let out = try await CLI.run(common, environment: ["WHERRY_NAMESPACE": "inventories-env"])
            #expect(out.exitCode == 0, "\(out.stderr)")
            #expect(server.object(resource: "namespaces", name: "inventories-env") != nil)
            #expect(server.object(resource: "namespaces", name: "wherry-system") == nil)
            let flag = try await CLI.run(
                common + ["--namespace", "inventories-flag"], environment: ["WHERRY_NAMESPACE": "inventories-env"])
            #expect(flag.exitCode == 0, "\(flag.stderr)")
            #expect(server.object(resource: "namespaces", name: "inventories-flag") != nil)
        }
    }
}
