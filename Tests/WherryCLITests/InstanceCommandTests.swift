import Foundation
import Testing
import WherryModel
import WherryTesting

/// Issue 17 item 2: two configs sharing the inventory namespace, against FakeAPIServer.
@Suite("Inventories belong to one Wherry instance")
struct InstanceCommandTests {
    private static func configMap(_ name: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: default\ndata:\n  k: v\n"
    }

    private static func inventory(_ server: FakeAPIServer, _ service: String) -> JSONValue? {
        server.object(resource: "configmaps", namespace: "wherry-system", name: "wherry-inventory-\(service)")
    }

    @Test("another config's services are neither orphans nor prunable; a service name held by the other is an error")
    func twoConfigs() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "instance")
            defer { remote.remove(); work.remove() }
            try await remote.commit([
                "web/a.yaml": Self.configMap("web-a"), "api/b.yaml": Self.configMap("api-b"),
            ])
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let header = "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
            let a = try work.write("a.yaml", header + "  - {name: web, github: r, k8s_yaml_dir: web}\n")
            let b = try work.write("b.yaml", header + "  - {name: api, github: r, k8s_yaml_dir: api}\n")
            let syncA = try await CLI.run(["sync", "-c", a, "--kubeconfig", kubeconfig])
            #expect(syncA.exitCode == 0, "\(syncA.all)")
            #expect(Self.inventory(server, "web")?["metadata"]?["labels"]?["wherry.dev/instance"] == "a")
            let syncB = try await CLI.run(["sync", "-c", b, "--kubeconfig", kubeconfig])
            #expect(syncB.exitCode == 0, "\(syncB.all)")
            #expect(!syncB.stderr.contains("no longer configured"), "a's service is not b's orphan: \(syncB.all)")

            let prune = try await CLI.run([
                "prune", "-c", b, "--kubeconfig", kubeconfig, "--service", "web", "--dry-run",
            ])
            #expect(prune.exitCode == 1, "\(prune.all)")
            #expect(
                prune.stderr.contains("belongs to Wherry instance 'a', not to this config's instance 'b'"),
                "\(prune.all)")
            #expect(!prune.stdout.contains("ConfigMap/default/web-a"), "\(prune.all)")

            // b configures a service named like a's: a clear error naming both, and a's objects stay as they are.
            let clash = try work.write(
                "b.yaml",
                header + "  - {name: api, github: r, k8s_yaml_dir: api}\n"
                    + "  - {name: web, github: r, k8s_yaml_dir: api}\n")
            let syncClash = try await CLI.run(["sync", "-c", clash, "--kubeconfig", kubeconfig])
            #expect(syncClash.exitCode == 1, "\(syncClash.all)")
            #expect(syncClash.all.contains("instance 'a', not to this config's instance 'b'"), "\(syncClash.all)")
            #expect(Self.inventory(server, "web")?["metadata"]?["labels"]?["wherry.dev/instance"] == "a")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "web-a") != nil)
        }
    }

    @Test(
        "an inventory written before instances is adopted by the config that has the service, never pruned by another")
    func adoption() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "instance")
            defer { remote.remove(); work.remove() }
            try await remote.commit(["web/a.yaml": Self.configMap("web-a")])
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let header = "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
            let a = try work.write("a.yaml", header + "  - {name: web, github: r, k8s_yaml_dir: web}\n")
            let b = try work.write("b.yaml", header + "  - {name: api, github: r, k8s_yaml_dir: missing}\n")
            #expect(try await CLI.run(["sync", "-c", a, "--kubeconfig", kubeconfig]).exitCode == 0)
            // As an older Wherry wrote it: no instance label.
            var old = try #require(Self.inventory(server, "web"))
            if case .object(var object) = old, case .object(var metadata)? = object["metadata"],
                case .object(var labels)? = metadata["labels"]
            {
                labels["wherry.dev/instance"] = nil
                metadata["labels"] = .object(labels)
                metadata["resourceVersion"] = nil
                metadata["managedFields"] = nil
                object["metadata"] = .object(metadata)
                old = .object(object)
            }
            _ = try server.put(old)
            #expect(Self.inventory(server, "web")?["metadata"]?["labels"]?["wherry.dev/instance"] == nil)

            let prune = try await CLI.run(["prune", "-c", b, "--kubeconfig", kubeconfig, "--service", "web"])
            #expect(prune.exitCode == 1, "\(prune.all)")
            #expect(prune.stderr.contains("carries no wherry.dev/instance label"), "\(prune.all)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "web-a") != nil)

            let adopt = try await CLI.run(["sync", "-c", a, "--kubeconfig", kubeconfig])
            #expect(adopt.exitCode == 0, "\(adopt.all)")
            #expect(Self.inventory(server, "web")?["metadata"]?["labels"]?["wherry.dev/instance"] == "a")
        }
    }

    @Test("wherry run of another config with a service of the same name and render fails it, naming both instances")
    func runRefusesForeignService() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "instance")
            defer { remote.remove(); work.remove() }
            try await remote.commit(["web/a.yaml": Self.configMap("web-a")])
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let body =
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
                + "  - {name: web, github: r, k8s_yaml_dir: web}\n"
            let a = try work.write("a.yaml", body)
            let b = try work.write("b.yaml", body)
            #expect(try await CLI.run(["sync", "-c", a, "--kubeconfig", kubeconfig]).exitCode == 0)
            let wherry = try await RunningWherry.start(
                ["-c", b, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen", "127.0.0.1:0"],
                work: work, name: "b")
            defer { wherry.kill() }
            var service: JSONValue = .null
            for _ in 0..<100 where service["last_result"]?.stringValue == nil {
                try await Task.sleep(for: .milliseconds(100))
                let status = try await CLI.run(["status", "web", "--server", "127.0.0.1:\(wherry.port)", "-o", "json"])
                service = (try? JSONValue.parse(status.stdout))?["service"] ?? .null
            }
            #expect(service["last_result"] == "failed", "\(service)")
            #expect(
                service["last_error"]?.stringValue?.contains(
                    "belongs to Wherry instance 'a', not to this config's "
                        + "instance 'b'") == true, "\(service)")
            #expect(Self.inventory(server, "web")?["metadata"]?["labels"]?["wherry.dev/instance"] == "a")
        }
    }

    @Test("same file name, other repository: the other config's orphan is not pruned without --adopt")
    func sameFileName() async throws {
        try await FakeAPIServer.withServer { server in
            let remoteA = try await GitRemoteFixture()
            let remoteB = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "instance")
            defer { remoteA.remove(); remoteB.remove(); work.remove() }
            try await remoteA.commit(["web/a.yaml": Self.configMap("web-a"), "other/o.yaml": Self.configMap("other-o")])
            try await remoteB.commit(["api/b.yaml": Self.configMap("api-b")])
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let a = try work.write(
                "team-a/gitops-config.yaml",
                "github_configs:\n  r: {url: \(remoteA.fileURL)}\nservices:\n  - {name: web, github: r, k8s_yaml_dir: web}\n"
            )
            let b = try work.write(
                "team-b/gitops-config.yaml",
                "github_configs:\n  r: {url: \(remoteB.fileURL)}\nservices:\n  - {name: api, github: r, k8s_yaml_dir: api}\n"
            )
            #expect(try await CLI.run(["sync", "-c", a, "--kubeconfig", kubeconfig]).exitCode == 0)
            #expect(
                Self.inventory(server, "web")?["metadata"]?["annotations"]?["wherry.dev/repository"]
                    == .string(remoteA.fileURL))

            let prune = try await CLI.run(["prune", "-c", b, "--kubeconfig", kubeconfig, "--service", "web"])
            #expect(prune.exitCode == 1, "\(prune.all)")
            #expect(prune.stderr.contains("which this config (instance 'gitops-config') does not use"), "\(prune.all)")
            #expect(prune.stderr.contains("--adopt"), "\(prune.all)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "web-a") != nil)

            // The config that wrote it prunes it as before, once it no longer has the service.
            _ = try work.write(
                "team-a/gitops-config.yaml",
                "github_configs:\n  r: {url: \(remoteA.fileURL)}\nservices:\n  - {name: other, github: r, k8s_yaml_dir: other}\n"
            )
            let own = try await CLI.run(["prune", "-c", a, "--kubeconfig", kubeconfig, "--service", "web"])
            #expect(own.exitCode == 0, "\(own.all)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "web-a") == nil)
        }
    }
}
