import Foundation
import Testing
import WherryModel
import WherryTesting

@Suite("Pruning from the command line, against FakeAPIServer")
struct PruneCommandTests {
    private static func configMap(_ name: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: default\ndata:\n  k: v\n"
    }

    /// A remote with three ConfigMaps under k8s/, a config writer and the common arguments.
    private func setUp(
        _ server: FakeAPIServer
    ) async throws -> (GitRemoteFixture, TemporaryDirectory, (String) throws -> [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit([
            "k8s/a.yaml": Self.configMap("a"), "k8s/b.yaml": Self.configMap("b"), "k8s/c.yaml": Self.configMap("c"),
            "other/o.yaml": Self.configMap("o"),
        ])
        let work = try TemporaryDirectory(prefix: "prune")
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        let arguments = { (services: String) throws -> [String] in
            let config = try work.write(
                "gitops-config.yaml", "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n\(services)")
            return ["-c", config, "--kubeconfig", kubeconfig]
        }
        return (remote, work, arguments)
    }

    @Test("a removed file is listed by diff and sync --dry-run, then pruned by sync")
    func removedFile() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, arguments) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let common = try arguments("  - {name: shop, github: r, k8s_yaml_dir: k8s}\n")
            #expect(try await CLI.run(["sync"] + common).exitCode == 0)
            try await remote.commit(["k8s/c.yaml": nil])
            let diff = try await CLI.run(["diff"] + common)
            #expect(diff.exitCode == 1)
            #expect(diff.stdout.contains("prune ConfigMap/default/c: would be deleted"), "\(diff.stdout)")
            let dry = try await CLI.run(["sync", "--dry-run"] + common)
            #expect(dry.stdout.contains("ConfigMap/default/c deleted (dry run)"), "\(dry.stdout)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "c") != nil)
            let sync = try await CLI.run(["sync"] + common)
            #expect(sync.exitCode == 0, "\(sync.stderr)")
            #expect(sync.stdout.contains("ConfigMap/default/c deleted\n"))
            #expect(sync.stdout.contains("2 unchanged, 1 deleted"))
            #expect(server.object(resource: "configmaps", namespace: "default", name: "c") == nil)
        }
    }

    @Test("a service removed from the config is orphaned, named, and pruned only by wherry prune")
    func orphanedService() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, arguments) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let both = try arguments(
                "  - {name: shop, github: r, k8s_yaml_dir: k8s}\n  - {name: other, github: r, k8s_yaml_dir: other}\n")
            #expect(try await CLI.run(["sync"] + both).exitCode == 0)
            let onlyOther = try arguments("  - {name: other, github: r, k8s_yaml_dir: other}\n")
            let sync = try await CLI.run(["sync"] + onlyOther)
            #expect(sync.exitCode == 0)
            #expect(
                sync.stderr.contains(
                    "service shop is no longer configured; its 3 objects were left in the cluster (remove them with: "
                        + "wherry prune --service shop)"), "\(sync.stderr)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "a") != nil)
            let configured = try await CLI.run(["prune", "--service", "other"] + onlyOther)
            #expect(configured.exitCode == 2)
            #expect(configured.stderr.contains("service other is still configured"))
            let dry = try await CLI.run(["prune", "--service", "shop", "--dry-run"] + onlyOther)
            #expect(dry.stdout.contains("ConfigMap/default/a deleted (dry run)"), "\(dry.stdout)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "a") != nil)
            let prune = try await CLI.run(["prune", "--service", "shop"] + onlyOther)
            #expect(prune.exitCode == 0, "\(prune.stderr)")
            #expect(prune.stdout.contains("service shop: 3 deleted"), "\(prune.stdout)")
            for name in ["a", "b", "c"] {
                #expect(server.object(resource: "configmaps", namespace: "default", name: name) == nil)
            }
            #expect(server.object(resource: "configmaps", namespace: "default", name: "o") != nil)
            let again = try await CLI.run(["sync"] + onlyOther)
            #expect(!again.stderr.contains("no longer configured"), "\(again.stderr)")
        }
    }

    @Test("a renamed service adopts its objects; pruning the old name then deletes nothing")
    func renamedService() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, arguments) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            #expect(
                try await CLI.run(["sync"] + arguments("  - {name: shop, github: r, k8s_yaml_dir: k8s}\n")).exitCode
                    == 0)
            let renamed = try arguments("  - {name: store, github: r, k8s_yaml_dir: k8s}\n")
            let sync = try await CLI.run(["sync"] + renamed)
            #expect(sync.exitCode == 0, "\(sync.stderr)")
            #expect(sync.stdout.contains("3 configured"), "\(sync.stdout)")
            let labels = server.object(resource: "configmaps", namespace: "default", name: "a")?["metadata"]?["labels"]
            #expect(labels?["wherry.dev/service"] == "store")
            let prune = try await CLI.run(["prune", "--service", "shop"] + renamed)
            #expect(prune.exitCode == 0, "\(prune.stderr)")
            #expect(prune.stdout.contains("ConfigMap/default/a kept (moved to service store)"), "\(prune.stdout)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "a") != nil)
        }
    }
}
