import Foundation
import Testing
import WherryModel
import WherryTesting

/// Issue 17 item 7: errors that say what happened and where.
@Suite("Unknown fields, source locations, validate --server and git failures, against FakeAPIServer")
struct HonestErrorsTests {
    private func setUp(
        _ server: FakeAPIServer, files: [String: String?]
    ) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit(files)
        let work = try TemporaryDirectory(prefix: "honest")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    private static let typo: [String: String?] = [
        "k8s/good.yaml":
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n  namespace: default\ndata:\n  a: b\n",
        "k8s/bad.yaml":
            "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: default\ndatta:\n  a: b\n",
    ]

    @Test("sync names an unknown field as such, with the object's file and line")
    func unknownFieldAtSync() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server, files: Self.typo)
            defer { remote.remove(); work.remove() }
            let out = try await CLI.run(["sync"] + common)
            #expect(out.exitCode == 1)
            #expect(
                out.stderr.contains("k8s/bad.yaml:2:1: ConfigMap/default/bad: unknown field `datta`"), "\(out.stderr)")
            #expect(!out.stderr.contains("wrong type"), "\(out.stderr)")
            #expect(!out.stderr.contains("field not declared"), "\(out.stderr)")
            let json = try await CLI.run(["sync", "--output", "json"] + common)
            let error = try #require(try JSONValue.parse(json.stdout)["errors"]?.arrayValue?.first)
            #expect(error["file"] == "k8s/bad.yaml")
            #expect(error["line"] == .int(2))
            #expect(error["object"] == "ConfigMap/default/bad")
        }
    }

    @Test("validate says it checked syntax only; validate --server runs the dry run and finds the unknown field")
    func validateServer() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server, files: Self.typo)
            defer { remote.remove(); work.remove() }
            let offline = try await CLI.run(["validate"] + common)
            #expect(offline.exitCode == 0, "\(offline.stderr)")
            #expect(offline.stdout.contains("service shop: 2 objects read, syntax valid at "))
            #expect(offline.stderr.contains("syntax only"))
            #expect(server.requests.isEmpty, "validate without --server does not contact the cluster")
            let online = try await CLI.run(["validate", "--server"] + common)
            #expect(online.exitCode == 1)
            #expect(
                online.stderr.contains("k8s/bad.yaml:2:1: ConfigMap/default/bad: unknown field `datta`"),
                "\(online.stderr)")
            #expect(online.stderr.contains("1 of 1 service has invalid manifests"), "\(online.stderr)")
            #expect(server.object(resource: "configmaps", namespace: "default", name: "good") == nil, "nothing written")
            #expect(server.requests.allSatisfy { $0.method == "GET" || $0.query["dryRun"] == "All" })
            let json = try await CLI.run(["validate", "--server", "--output", "json"] + common)
            let report = try JSONValue.parse(json.stdout)
            #expect(report["checked"] == "server")
            #expect(report["counts"]?["invalid"] == .int(1))
            try await remote.commit(["k8s/bad.yaml": nil])
            let fixed = try await CLI.run(["validate", "--server"] + common)
            #expect(fixed.exitCode == 0, "\(fixed.stderr)")
            #expect(fixed.stdout.contains("service shop: 1 object valid on the server (server-side dry run) at "))
        }
    }

    @Test("a git failure is said as a git failure, not as invalid manifests")
    func gitFailure() async throws {
        let work = try TemporaryDirectory(prefix: "honest")
        defer { work.remove() }
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(work.path)/nowhere.git}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let out = try await CLI.run(["validate", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("service shop: git failed:"), "\(out.stderr)")
        #expect(out.stderr.contains("1 of 1 service could not be read from Git"), "\(out.stderr)")
        #expect(!out.stderr.contains("invalid manifests"), "\(out.stderr)")
    }
}
