import Foundation
import Testing
import WherryModel
import WherryTesting

/// `--output json` of sync, diff, validate and prune: each parsed as a script would, against the README's schema.
@Suite("--output json of sync, diff, validate and prune, against FakeAPIServer")
struct JSONOutputTests {
    private static let manifests: [String: String?] = [
        "k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        "k8s/cm.yaml":
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: \"on\"\n",
    ]

    static let actionKeys = ["created", "configured", "unchanged", "deleted", "skipped", "kept", "failed"]

    private func setUp(_ server: FakeAPIServer) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit(Self.manifests)
        let work = try TemporaryDirectory(prefix: "json")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: shop}\n"
        )
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    /// Every key of `keys` is present in `counts` as an integer.
    private func expectCounts(
        _ counts: JSONValue?, keys: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        for key in keys {
            guard case .int = counts?[key] else {
                Issue.record("counts lacks \(key): \(String(describing: counts))", sourceLocation: sourceLocation)
                continue
            }
        }
    }

    /// An object of the schema `{kind, namespace, name, action, error?}`.
    private func expectObject(_ object: JSONValue, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for key in ["kind", "namespace", "name", "action"] where object[key]?.stringValue == nil {
            Issue.record("object lacks \(key): \(object.jsonString())", sourceLocation: sourceLocation)
        }
    }

    private func find(_ objects: [JSONValue], kind: String, name: String) -> JSONValue? {
        objects.first { $0["kind"]?.stringValue == kind && $0["name"]?.stringValue == name }
    }

    @Test("sync --output json: objects, counts with every key, and located errors for an invalid object")
    func sync() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let first = try await CLI.run(["sync", "--output", "json"] + common)
            #expect(first.exitCode == 0, "\(first.stderr)")
            let report = try JSONValue.parse(first.stdout)
            #expect(report["dryRun"] == false)
            expectCounts(report["counts"], keys: Self.actionKeys)
            #expect(report["counts"]?["created"] == .int(2))
            #expect(report["counts"]?["failed"] == .int(0))
            expectCounts(report["serviceCounts"], keys: ["synced", "failed", "skipped"])
            #expect(report["errors"] == [])
            let service = try #require(report["services"]?.arrayValue?.first)
            #expect(service["service"] == "shop")
            #expect(service["result"] == "synced")
            let objects = service["objects"]?.arrayValue ?? []
            for object in objects { expectObject(object) }
            #expect(find(objects, kind: "ConfigMap", name: "settings")?["namespace"] == "shop")
            #expect(find(objects, kind: "Namespace", name: "shop")?["action"] == "created")

            try await remote.commit([
                "k8s/bad.yaml":
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: shop\n  annotations:\n    fake.wherry.dev/invalid: forbidden by policy\n"
            ])
            let failed = try await CLI.run(["sync", "--output", "json"] + common)
            #expect(failed.exitCode == 1)
            let failure = try JSONValue.parse(failed.stdout)
            #expect(failure["serviceCounts"]?["failed"] == .int(1))
            let errors = failure["errors"]?.arrayValue ?? []
            let error = try #require(errors.first)
            #expect(error["object"] == "ConfigMap/shop/bad")
            #expect(error["message"]?.stringValue?.contains("forbidden by policy") == true)
            let bad = find(
                failure["services"]?.arrayValue?.first?["objects"]?.arrayValue ?? [], kind: "ConfigMap", name: "bad")
            #expect(bad?["action"] == "failed")
            #expect(bad?["error"]?.stringValue?.contains("forbidden by policy") == true)
        }
    }

    @Test("diff --output json: each changed object with its action and diff; exit 1 when something would change")
    func diff() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let out = try await CLI.run(["diff", "--output", "json"] + common)
            #expect(out.exitCode == 1)
            #expect(out.stdout.hasPrefix("{"), "the unified diff is inside the JSON, not beside it")
            let report = try JSONValue.parse(out.stdout)
            #expect(report["changed"] == .int(2))
            expectCounts(report["counts"], keys: Self.actionKeys)
            let objects = report["services"]?.arrayValue?.first?["objects"]?.arrayValue ?? []
            for object in objects { expectObject(object) }
            let settings = try #require(find(objects, kind: "ConfigMap", name: "settings"))
            #expect(settings["action"] == "created")
            #expect(settings["diff"]?.stringValue?.contains("+  mode: \"on\"") == true)
            _ = try await CLI.run(["sync"] + common)
            let clean = try await CLI.run(["diff", "--output", "json"] + common)
            #expect(clean.exitCode == 0, "\(clean.stderr)")
            let cleanReport = try JSONValue.parse(clean.stdout)
            #expect(cleanReport["changed"] == .int(0))
            #expect(cleanReport["counts"]?["unchanged"] == .int(2))
        }
    }

    @Test("validate --output json: config summary, per-service objects, located errors; config errors exit 2")
    func validate() async throws {
        let remote = try await GitRemoteFixture()
        try await remote.commit(
            Self.manifests.merging(["bad/x.yaml": "kind: ConfigMap\nmetadata:\n  name: [\n"]) { $1 })
        let work = try TemporaryDirectory(prefix: "json")
        defer { remote.remove(); work.remove() }
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
                + "  - {name: bad, github: r, k8s_yaml_dir: bad}\n")
        let out = try await CLI.run(["validate", "--output", "json", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 1)
        let report = try JSONValue.parse(out.stdout)
        #expect(report["checked"] == "syntax")
        #expect(report["config"]?["valid"] == true)
        expectCounts(report["counts"], keys: ["valid", "invalid"])
        #expect(report["counts"]?["valid"] == .int(1))
        #expect(report["counts"]?["invalid"] == .int(1))
        let services = report["services"]?.arrayValue ?? []
        let shop = try #require(services.first { $0["service"] == "shop" })
        #expect(shop["objects"]?.arrayValue?.count == 2)
        for object in shop["objects"]?.arrayValue ?? [] { expectObject(object) }
        let error = try #require(report["errors"]?.arrayValue?.first)
        #expect(error["file"]?.stringValue?.hasSuffix("bad/x.yaml") == true, "\(error.jsonString())")
        #expect(error["line"] != nil, "\(error.jsonString())")
        #expect(error["service"] == "bad")

        let broken = try work.write("broken.yaml", "services:\n  - {name: a, githb: r}\n")
        let invalid = try await CLI.run(["validate", "--output", "json", "-c", broken])
        #expect(invalid.exitCode == 2)
        let invalidReport = try JSONValue.parse(invalid.stdout)
        #expect(invalidReport["config"]?["valid"] == false)
        let configError = try #require(invalidReport["errors"]?.arrayValue?.first)
        #expect(configError["file"]?.stringValue == broken)
        #expect(configError["line"] == .int(2))
    }

    @Test("prune --output json: the objects deleted, counts with every key")
    func prune() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            #expect(try await CLI.run(["sync"] + common).exitCode == 0)
            // The service leaves the config; its repository stays (a prune of an orphan from a repository the
            // config no longer uses asks for --adopt, see InstanceCommandTests).
            let config = common[1]
            let text = try String(contentsOfFile: config, encoding: .utf8)
            try String(text[..<text.range(of: "services:")!.lowerBound] + "services: []\n")
                .write(toFile: config, atomically: true, encoding: .utf8)
            let dry = try await CLI.run(["prune", "--service", "shop", "--dry-run", "--output", "json"] + common)
            #expect(dry.exitCode == 0, "\(dry.stderr)")
            let report = try JSONValue.parse(dry.stdout)
            #expect(report["service"] == "shop")
            #expect(report["dryRun"] == true)
            expectCounts(report["counts"], keys: Self.actionKeys)
            #expect(report["counts"]?["deleted"] == .int(2))
            let objects = report["objects"]?.arrayValue ?? []
            for object in objects { expectObject(object) }
            #expect(find(objects, kind: "ConfigMap", name: "settings")?["action"] == "deleted")
            #expect(report["errors"] == [])
            #expect(server.object(resource: "configmaps", namespace: "shop", name: "settings") != nil)
        }
    }
}
