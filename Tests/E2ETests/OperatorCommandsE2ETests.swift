import Foundation
import Testing
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// `wherry status SERVICE`, `tree`, `history`, `events`, orphan pruning and instances against `wherry run` and a real
/// API server (issue 17, helper B). Namespaces are `e2e-17b-…`.
@Suite(
    "E2E: status SERVICE, tree, history, events, prune and instances on a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct OperatorCommandsE2ETests {
    /// The `wherry` binary next to the test bundle.
    static let binary: String = {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("wherry").path
    }()

    static func wherry(_ arguments: [String], in directory: String) async throws -> (Int32?, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = directory + "/out-\(UUID().uuidString)"
        let err = out + ".err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        for _ in 0..<1200 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (
            process.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }

    static func manifests(_ namespace: String) -> [String: String?] {
        [
            "shop/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "shop/cm.yaml":
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: \(namespace)\n"
                + "data:\n  a: \"1\"\n",
            "shop/svc.yaml":
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: \(namespace)\nspec:\n  ports:\n"
                + "  - port: 80\n",
            // In a namespace of its own: a Namespace that still holds another service's objects is kept by a prune.
            "api/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)-api\n",
            "api/cm.yaml":
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\n  namespace: \(namespace)-api\ndata:\n  a: \"1\"\n",
            "broken/a.yaml": "apiVersion: v1\nmetadata:\n  name: a\n",
            "broken/b.yaml": "apiVersion: v1\nmetadata:\n  name: b\n",
        ]
    }

    @Test(
        "status SERVICE, tree, history, events on wherry run; a pruned orphan leaves status; another instance's service is refused"
    )
    func operatorSession() async throws {
        let suffix = ApplyScenarios.uniqueSuffix()
        let namespace = "e2e-17b-\(suffix)"
        let inventories = "e2e-17b-\(suffix)-wherry"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "e2e17b")
        let api = try E2ECluster.api()
        defer { remote.remove(); work.remove() }
        try await remote.commit(Self.manifests(namespace))
        let header = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
        let config = try work.write(
            "a.yaml",
            header + "  - {name: shop, github: r, k8s_yaml_dir: shop, drift_interval: 2}\n"
                + "  - {name: broken, github: r, k8s_yaml_dir: broken, namespace: \(namespace)}\n")
        let kube = ["--kubeconfig", E2ECluster.kubeconfig, "--namespace", inventories]
        let state = work.path + "/state"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.currentDirectoryURL = URL(fileURLWithPath: work.path)
        process.arguments = ["run", "-c", config, "--state-dir", state, "--listen", "127.0.0.1:0"] + kube
        let stderrPath = try work.write("run.txt", "")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func cleanUp() async {
            for path in [
                "/api/v1/namespaces/\(namespace)", "/api/v1/namespaces/\(namespace)-api",
                "/api/v1/namespaces/\(inventories)",
            ] {
                _ = try? await api.delete(path, options: DeleteOptions())
            }
            await api.shutdown()
        }
        do {
            var port = 0
            for _ in 0..<300 where port == 0 {
                let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            try #require(port != 0)
            let server = ["--server", "127.0.0.1:\(port)"]
            var attempted = 0
            for _ in 0..<300 where attempted < 2 {
                try await Task.sleep(for: .milliseconds(200))
                let (_, out, _) = try await Self.wherry(["status", "-o", "json"] + server, in: work.path)
                attempted =
                    ((try? JSONValue.parse(out))?["services"]?.arrayValue ?? [])
                    .filter { $0["last_result"]?.stringValue != nil }.count
            }
            try #require(attempted == 2, "\((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")

            let (tableCode, table, _) = try await Self.wherry(["status"] + server, in: work.path)
            #expect(tableCode == 1, "a failing service makes status exit 1: \(table)")
            let (brokenCode, broken, _) = try await Self.wherry(["status", "broken"] + server, in: work.path)
            #expect(brokenCode == 1)
            #expect(broken.contains("a.yaml") && broken.contains("b.yaml"), "\(broken)")

            let (treeCode, tree, _) = try await Self.wherry(["tree", "shop"] + server, in: work.path)
            #expect(treeCode == 0, "\(tree)")
            #expect(tree.contains("└── Namespace/\(namespace)  healthy"), "\(tree)")
            #expect(tree.contains("Service/web  healthy"), "\(tree)")

            // A drift correction on the real server is its own history line; APPLIED stays between checks.
            _ = try await api.delete(
                "/api/v1/namespaces/\(namespace)/configmaps/settings", options: DeleteOptions())
            var history: [JSONValue] = []
            for _ in 0..<60 {
                let (_, out, _) = try await Self.wherry(["history", "shop", "-o", "json"] + server, in: work.path)
                history = (try? JSONValue.parse(out))?["history"]?.arrayValue ?? []
                if history.contains(where: { !($0["drifted"]?.arrayValue ?? []).isEmpty }) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            let correction = history.first { !($0["drifted"]?.arrayValue ?? []).isEmpty }
            #expect(correction?["drifted"] == .array([.string("ConfigMap/\(namespace)/settings")]), "\(history)")
            #expect(correction?["count"] == .int(1))

            let (_, events, _) = try await Self.wherry(
                ["events", "--service", "shop", "-o", "json"] + server, in: work.path)
            #expect(events.contains("\"drift_corrected\""), "\(events)")

            // Instance: another config in the same inventory namespace neither sees shop as an orphan nor prunes it.
            let other = try work.write("b.yaml", header + "  - {name: api, github: r, k8s_yaml_dir: shop}\n")
            let (pruneCode, _, pruneError) = try await Self.wherry(
                ["prune", "-c", other, "--service", "shop", "--dry-run"] + kube, in: work.path)
            #expect(pruneCode == 1)
            #expect(pruneError.contains("belongs to Wherry instance 'a', not to this config's instance 'b'"))

            // shop leaves the config (the controller restarts with it): orphaned, then pruned, then gone from status.
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            // (Without the broken service: while a configured service cannot be rendered, nothing is pruned.)
            _ = try work.write("a.yaml", header + "  - {name: api, github: r, k8s_yaml_dir: api}\n")
            let second = Process()
            second.executableURL = URL(fileURLWithPath: Self.binary)
            second.currentDirectoryURL = URL(fileURLWithPath: work.path)
            second.arguments = ["run", "-c", config, "--state-dir", state, "--listen", "127.0.0.1:\(port)"] + kube
            second.standardOutput = FileHandle.nullDevice
            second.standardError = FileHandle.nullDevice
            try second.run()
            defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
            func orphaned() async throws -> [JSONValue] {
                let (_, out, _) = try await Self.wherry(["status", "-o", "json"] + server, in: work.path)
                return (try? JSONValue.parse(out))?["orphaned"]?.arrayValue ?? []
            }
            var listed: [JSONValue] = []
            for _ in 0..<100 where listed.isEmpty {
                try await Task.sleep(for: .milliseconds(200))
                listed = try await orphaned()
            }
            #expect(listed.first?["service"] == "shop")
            #expect(listed.first?["prune_command"]?.stringValue?.contains("--namespace \(inventories)") == true)
            let (prunedCode, pruned, prunedError) = try await Self.wherry(
                ["prune", "-c", config, "--state-dir", state, "--service", "shop"] + kube, in: work.path)
            #expect(prunedCode == 0, "\(pruned)\(prunedError)")
            for _ in 0..<40 where !listed.isEmpty {
                try await Task.sleep(for: .milliseconds(250))
                listed = try await orphaned()
            }
            #expect(listed.isEmpty, "\(listed)")
            let (_, _, againError) = try await Self.wherry(
                ["prune", "-c", config, "--state-dir", state, "--service", "shop"] + kube, in: work.path)
            #expect(againError.contains("so there is nothing to prune: it was pruned already"), "\(againError)")
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }
}
