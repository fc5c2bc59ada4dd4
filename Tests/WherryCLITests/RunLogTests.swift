import Foundation
import Testing
import WherryModel
import WherryTesting

/// What `wherry run` writes on stderr, as a log collector reads it.
@Suite("wherry run logs")
struct RunLogTests {
    @Test("--log-format json: every line is JSON (listening on too), numbers are numbers, one line per change")
    func jsonLines() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "logs")
            defer { remote.remove(); work.remove() }
            try await remote.commit(["shop/cm.yaml": ControlledWherry.configMap("1")])
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\napi_token_env: LOG_TEST_TOKEN\n"
                    + "services:\n  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}\n")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0", "--log-format", "json", "--log-level", "info",
                ],
                work: work, name: "json", environment: ["LOG_TEST_TOKEN": "t"])
            defer { wherry.kill() }
            #expect(
                try await ControlledWherry.eventually {
                    server.object(resource: "configmaps", namespace: "default", name: "shop") != nil
                })
            // A few unchanged polls, then a manual sync that changes nothing either: neither is news at info.
            try await Task.sleep(for: .seconds(2))
            let manual = try await CLI.run(
                ["reconcile", "shop", "--wait", "--server", "127.0.0.1:\(wherry.port)"],
                environment: ["WHERRY_API_TOKEN": "t"])
            #expect(manual.exitCode == 0, "\(manual.all)")
            try await Task.sleep(for: .seconds(1))
            let lines = wherry.stderr.split(separator: "\n")
            var objects: [JSONValue] = []
            for line in lines {
                let parsed = try? JSONValue.parse(Array(line.utf8))
                #expect(parsed?.objectValue != nil, "not JSON: \(line)")
                if let parsed { objects.append(parsed) }
            }
            #expect(objects.contains { $0["message"]?.stringValue?.hasPrefix("wherry: listening on http://") == true })
            let starting = objects.first { $0["message"] == .string("Wherry controller starting") }
            #expect(starting?["wherry.services"] == .int(1), "\(String(describing: starting))")
            let reconciled = objects.filter { $0["message"] == .string("Reconciled service") }
            #expect(reconciled.count == 1, "\(lines)")
            if case .int? = reconciled.first?["wherry.duration_ms"] {} else { Issue.record("\(reconciled)") }
            #expect(!objects.contains { $0["message"] == .string("Synced service") })
        }
    }

    @Test("text format: a multi-line error stays on its log line, quoted and escaped")
    func multiLineQuoted() async throws {
        try await FakeAPIServer.withServer { server in
            let work = try TemporaryDirectory(prefix: "logs-text")
            defer { work.remove() }
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \"file://\(work.path)/no-such-repo\"}\npoll_interval: 1\n"
                    + "services:\n  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}\n")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0",
                ],
                work: work, name: "text")
            defer { wherry.kill() }
            #expect(try await ControlledWherry.eventually { wherry.stderr.contains("Cannot poll the repository") })
            try await Task.sleep(for: .milliseconds(300))
            let lines = wherry.stderr.split(separator: "\n")
            let warning = try #require(lines.first { $0.contains("Cannot poll the repository") })
            #expect(warning.contains("wherry.error=\""), "\(warning)")
            // Every line is a log line or the listening line: nothing of the error spills onto lines of its own.
            for line in lines {
                #expect(line.hasPrefix("wherry: listening on") || line.hasPrefix("20"), "\(line)")
            }
        }
    }
}
