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
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n\(services)")
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
            // The hint repeats the flags given, so it reaches the same cluster and inventories.
            #expect(
                sync.stderr.contains(
                    "service shop is no longer configured; its 3 objects were left in the cluster (remove them with: "
                        + "wherry prune -c \(onlyOther[1]) --kubeconfig \(onlyOther[3]) --service shop)"),
                "\(sync.stderr)")
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

    @Test(
        "after wherry prune, a running controller no longer lists the orphan, nor after a restart; a second prune says why"
    )
    func prunedOrphanLeavesStatus() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, arguments) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let state = work.path + "/state"
            let both = try arguments(
                "  - {name: shop, github: r, k8s_yaml_dir: k8s}\n  - {name: other, github: r, k8s_yaml_dir: other}\n")
            let flags = ["--namespace", "team-b", "--state-dir", state]
            #expect(try await CLI.run(["sync"] + both + flags).exitCode == 0)
            let onlyOther = try arguments("  - {name: other, github: r, k8s_yaml_dir: other}\n")
            func orphaned(_ wherry: RunningWherry) async throws -> [JSONValue] {
                let status = try await CLI.run(["status", "--server", "127.0.0.1:\(wherry.port)", "-o", "json"])
                return try JSONValue.parse(status.stdout)["orphaned"]?.arrayValue ?? []
            }
            func start(_ name: String) async throws -> RunningWherry {
                try await RunningWherry.start(
                    onlyOther + flags + ["--listen", "127.0.0.1:0"], work: work, name: name)
            }
            let first = try await start("first")
            defer { first.kill() }
            var listed: [JSONValue] = []
            for _ in 0..<100 where listed.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                listed = try await orphaned(first)
            }
            #expect(listed.first?["service"] == "shop", "\(first.stderr)")
            let command = listed.first?["prune_command"]?.stringValue ?? ""
            #expect(command.contains("-c \(onlyOther[1])") && command.contains("--namespace team-b"), "\(command)")
            let table = try await CLI.run(["status", "--server", "127.0.0.1:\(first.port)"])
            #expect(table.stdout.contains("remove them with: wherry prune -c"), "\(table.stdout)")

            let prune = try await CLI.run(["prune", "--service", "shop"] + onlyOther + flags)
            #expect(prune.exitCode == 0, "\(prune.all)")
            #expect(prune.stdout.contains("service shop: 3 deleted"), "\(prune.all)")
            // The running controller drops it (it looks again every poll interval), without a restart.
            for _ in 0..<60 where !listed.isEmpty {
                try await Task.sleep(for: .milliseconds(250))
                listed = try await orphaned(first)
            }
            #expect(listed.isEmpty, "\(listed)")
            first.kill()
            _ = try await first.exit(within: 5)
            let second = try await start("second")
            defer { second.kill() }
            try await Task.sleep(for: .seconds(2))
            #expect(try await orphaned(second).isEmpty)
            #expect(!second.stderr.contains("no longer configured"), "\(second.stderr)")

            let again = try await CLI.run(["prune", "--service", "shop"] + onlyOther + flags)
            #expect(again.exitCode == 0, "\(again.all)")
            #expect(
                again.stderr.contains(
                    "service shop has no inventory in namespace team-b, so there is nothing to prune: it was pruned "
                        + "already"), "\(again.all)")
        }
    }
}
