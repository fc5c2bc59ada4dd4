import Foundation
import Testing
import WherryModel
import WherryTesting

@Suite("wherry sync and diff against FakeAPIServer, run as a user would")
struct SyncCommandTests {
    private static let manifests: [String: String?] = [
        "k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        "k8s/cm.yaml":
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: \"on\"\n",
        "k8s/unscoped.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: defaults\ndata:\n  a: \"1\"\n",
    ]

    /// A remote with manifests, a config naming it, and a kubeconfig for the fake server.
    private func setUp(_ server: FakeAPIServer) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit(Self.manifests)
        let work = try TemporaryDirectory(prefix: "sync")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: shop}\n"
        )
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    @Test("sync applies, prints one line per object, and a second sync changes nothing")
    func syncTwice() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let first = try await CLI.run(["sync"] + common)
            #expect(first.exitCode == 0, "\(first.stderr)")
            #expect(
                first.stdout.contains(
                    "Namespace/shop created\nConfigMap/shop/defaults created\nConfigMap/shop/settings created\n"))
            #expect(first.stdout.contains("service shop at "))
            #expect(first.stdout.contains(": 3 created"))
            #expect(server.object(resource: "configmaps", namespace: "shop", name: "defaults") != nil)
            #expect(!first.all.contains("kube-token-123456"))
            let second = try await CLI.run(["sync"] + common + ["--output", "json"])
            #expect(second.exitCode == 0)
            let report = try JSONValue.parse(second.stdout)
            #expect(report["services"]?.arrayValue?.first?["summary"] == "3 unchanged")
        }
    }

    @Test("a service suspended at runtime is skipped by a full sync, and synced with a warning when named")
    func runtimeSuspension() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            #expect(try await CLI.run(["sync"] + common).exitCode == 0)
            // `wherry suspend shop` on the running controller writes this annotation on the inventory.
            var inventory = try #require(
                server.object(resource: "configmaps", namespace: "wherry-system", name: "wherry-inventory-shop"))
            inventory["metadata"]?["annotations"] = ["wherry.dev/suspended-at": "2026-01-01T00:00:00Z"]
            inventory["metadata"]?["managedFields"] = nil
            _ = try server.put(inventory)
            try await remote.commit(["k8s/cm.yaml": nil])
            let full = try await CLI.run(["sync"] + common + ["--output", "json"])
            #expect(full.exitCode == 0, "\(full.all)")
            #expect(full.stderr.contains("service shop is suspended at runtime"), "\(full.all)")
            #expect(full.stderr.contains("wherry resume shop"), "\(full.all)")
            let report = try JSONValue.parse(full.stdout)
            #expect(report["services"]?.arrayValue?.first?["result"] == "skipped", "\(full.all)")
            // Not pruned either.
            #expect(server.object(resource: "configmaps", namespace: "shop", name: "settings") != nil)
            let named = try await CLI.run(["sync", "--service", "shop"] + common)
            #expect(named.exitCode == 0, "\(named.all)")
            #expect(named.stderr.contains("warning: service shop is suspended at runtime"), "\(named.all)")
            #expect(server.object(resource: "configmaps", namespace: "shop", name: "settings") == nil)
        }
    }

    @Test("sync --dry-run writes nothing")
    func dryRun() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let before = server.resourceVersion
            let out = try await CLI.run(["sync", "--dry-run"] + common)
            #expect(out.exitCode == 0, "\(out.stderr)")
            #expect(out.stdout.contains("Namespace/shop created (dry run)"))
            #expect(server.resourceVersion == before)
        }
    }

    @Test("an invalid object fails the service, names it with the server's message, and exits 1")
    func invalidObject() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            try await remote.commit([
                "k8s/bad.yaml":
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  annotations:\n    fake.wherry.dev/invalid: forbidden by policy\n"
            ])
            let out = try await CLI.run(["sync"] + common)
            #expect(out.exitCode == 1)
            #expect(
                out.stderr.contains("1 object failed validation; only the first stage was applied (Namespace/shop)"))
            #expect(out.stderr.contains("ConfigMap/shop/bad: "))
            #expect(out.stderr.contains("forbidden by policy"))
            #expect(server.object(resource: "configmaps", namespace: "shop", name: "settings") == nil)
        }
    }

    @Test("diff exits 1 with a unified diff when Git differs, 0 when equal")
    func diff() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let fresh = try await CLI.run(["diff"] + common)
            #expect(fresh.exitCode == 1)
            #expect(fresh.stdout.contains("+++ git shop@"))
            #expect(fresh.stderr.contains("3 objects would change"))
            _ = try await CLI.run(["sync"] + common)
            let clean = try await CLI.run(["diff"] + common)
            #expect(clean.exitCode == 0, "\(clean.stdout)\(clean.stderr)")
            #expect(clean.stderr.contains("no changes"))
            try await remote.commit([
                "k8s/cm.yaml":
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: \"off\"\n"
            ])
            let changed = try await CLI.run(["diff"] + common)
            #expect(changed.exitCode == 1)
            #expect(changed.stdout.contains("--- live ConfigMap/shop/settings (configured)"))
            #expect(changed.stdout.contains("-  mode: \"on\"\n+  mode: \"off\""))
        }
    }

    @Test("a missing kubeconfig is a usage error naming the file")
    func missingKubeconfig() async throws {
        let work = try TemporaryDirectory(prefix: "sync")
        defer { work.remove() }
        let config = try work.write("c.yaml", "services: []\n")
        let out = try await CLI.run(["sync", "-c", config, "--kubeconfig", work.path + "/nope"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains(work.path + "/nope"))
    }

    @Test("a suspended service is skipped by a full sync but synced when named")
    func suspended() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let config = common[1]
            try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "namespace: shop}", with: "namespace: shop, suspend: true}")
                .write(toFile: config, atomically: true, encoding: .utf8)
            let all = try await CLI.run(["sync"] + common)
            #expect(all.exitCode == 0)
            #expect(all.stderr.contains("service shop is suspended (suspend: true); skipped"))
            #expect(server.object(resource: "namespaces", name: "shop") == nil)
            let named = try await CLI.run(["sync", "--service", "shop"] + common)
            #expect(named.exitCode == 0, "\(named.stderr)")
            #expect(server.object(resource: "namespaces", name: "shop") != nil)
        }
    }

    /// A remote with `count` services of a ConfigMap and a Service each in `default`, and a config naming them.
    private func manyServices(
        _ count: Int, server: String
    ) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        var files: [String: String?] = [:]
        var services = ""
        for index in 0..<count {
            files["svc-\(index)/cm.yaml"] =
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-\(index)\ndata:\n  k: \"\(index)\"\n"
            files["svc-\(index)/svc.yaml"] =
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-\(index)\nspec:\n  ports: [{port: 80}]\n"
            services += "  - {name: svc-\(index), github: r, k8s_yaml_dir: svc-\(index), namespace: default}\n"
        }
        try await remote.commit(files)
        let work = try TemporaryDirectory(prefix: "sync")
        let config = try work.write(
            "gitops-config.yaml", "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n" + services)
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    @Test("many services list each collection once, and a second sync writes nothing")
    func manyServicesShareLists() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await manyServices(30, server: server.baseURL)
            defer { remote.remove(); work.remove() }
            let first = try await CLI.run(["sync"] + common)
            #expect(first.exitCode == 0, "\(first.stderr)")
            let created = first.stdout.split(separator: "\n").filter {
                $0.hasSuffix(" created") && !$0.hasPrefix("service ")
            }
            #expect(created.count == 60)
            server.resetRequests()
            let second = try await CLI.run(["sync"] + common)
            #expect(second.exitCode == 0, "\(second.stderr)")
            #expect(second.stdout.components(separatedBy: ": 2 unchanged\n").count == 31)
            let requests = server.requests
            #expect(requests.filter { $0.method == "PATCH" && $0.query["dryRun"] == nil }.isEmpty)
            #expect(requests.filter { $0.method == "PATCH" }.count == 60)
            // The live objects: one LIST per collection for all 30 services (the inventories are read apart).
            let lists = requests.filter {
                $0.method == "GET" && $0.query["labelSelector"] != nil && !$0.path.contains("/wherry-system/")
            }
            #expect(lists.count == 2, "\(lists.map(\.path))")
            // The 30 inventories were saved by the first sync and are unchanged: read, not written.
            #expect(requests.filter { $0.method == "PATCH" && $0.path.contains("/wherry-system/") }.isEmpty)
        }
    }

    @Test("an unreachable cluster is said once, and the other services are not attempted")
    func unreachableCluster() async throws {
        let (remote, work, common) = try await manyServices(5, server: "http://127.0.0.1:1")
        defer { remote.remove(); work.remove() }
        let out = try await CLI.run(["sync"] + common)
        #expect(out.exitCode == 1)
        #expect(out.stderr.components(separatedBy: "cannot reach the API server at http://127.0.0.1:1").count == 2)
        #expect(out.stderr.contains("services were not attempted: the cluster failed"))
        #expect(!out.stderr.contains("failed validation"))
    }
}
