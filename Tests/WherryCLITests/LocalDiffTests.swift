import Foundation
import Testing
import WherryModel
import WherryTesting

@Suite("wherry diff --path and sync --no-prune, against FakeAPIServer")
struct LocalDiffTests {
    private static func configMap(_ name: String, _ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: default\ndata:\n  k: \"\(value)\"\n"
    }

    private func setUp(_ server: FakeAPIServer) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit([
            "k8s/a.yaml": Self.configMap("a", "1"), "k8s/b.yaml": Self.configMap("b", "1"),
            "k8s/c.yaml": Self.configMap("c", "1"),
        ])
        let work = try TemporaryDirectory(prefix: "local")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    @Test("diff --path renders the uncommitted work tree: a changed value and a removed file, nothing written")
    func diffLocal() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            #expect(try await CLI.run(["sync"] + common).exitCode == 0)
            let directory = remote.workPath + "/k8s"
            try Self.configMap("a", "2").write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(atPath: directory + "/c.yaml")
            let before = server.resourceVersion
            let out = try await CLI.run(["diff", "--service", "shop", "--path", directory] + common)
            #expect(out.exitCode == 1, "\(out.stderr)")
            #expect(out.stdout.contains("--- live ConfigMap/default/a (configured)"), "\(out.stdout)")
            #expect(out.stdout.contains("+++ local \(directory)"), "\(out.stdout)")
            #expect(out.stdout.contains("-  k: \"1\"\n+  k: \"2\""), "\(out.stdout)")
            #expect(out.stdout.contains("prune ConfigMap/default/c: would be deleted"), "\(out.stdout)")
            #expect(!out.stdout.contains("ConfigMap/default/b"), "b is unchanged")
            #expect(server.resourceVersion == before)
            // The branch itself still equals the cluster.
            let committed = try await CLI.run(["diff"] + common)
            #expect(committed.exitCode == 0, "\(committed.stdout)\(committed.stderr)")
            let json = try await CLI.run(
                ["diff", "--service", "shop", "--path", directory, "--output", "json"] + common)
            let report = try JSONValue.parse(json.stdout)
            #expect(report["services"]?.arrayValue?.first?["commit"] == "local")
            #expect(report["changed"] == .int(2))
        }
    }

    @Test("diff --path without --service, or with a missing directory, is a usage error")
    func usage() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let noService = try await CLI.run(["diff", "--path", remote.workPath + "/k8s"] + common)
            #expect(noService.exitCode == 2)
            #expect(noService.stderr.contains("--path needs --service"))
            let missing = try await CLI.run(["diff", "--service", "shop", "--path", work.path + "/nope"] + common)
            #expect(missing.exitCode == 2)
            #expect(missing.stderr.contains("--path \(work.path)/nope: no such directory"))
        }
    }

    @Test("sync --no-prune keeps what left Git (listed as kept), and the next sync prunes it")
    func noPrune() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            #expect(try await CLI.run(["sync"] + common).exitCode == 0)
            try await remote.commit(["k8s/c.yaml": nil, "k8s/a.yaml": Self.configMap("a", "2")])
            let kept = try await CLI.run(["sync", "--no-prune"] + common)
            #expect(kept.exitCode == 0, "\(kept.stderr)")
            #expect(kept.stdout.contains("ConfigMap/default/a configured"), "\(kept.stdout)")
            #expect(kept.stdout.contains("ConfigMap/default/c kept (--no-prune)"), "\(kept.stdout)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "c") != nil)
            let pruned = try await CLI.run(["sync"] + common)
            #expect(pruned.exitCode == 0, "\(pruned.stderr)")
            #expect(pruned.stdout.contains("ConfigMap/default/c deleted"), "\(pruned.stdout)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "c") == nil)
        }
    }
}
