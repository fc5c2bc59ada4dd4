import Foundation
import Testing
import WherryModel
import WherryTesting

/// `wherry run` stopped by SIGTERM: the loop drains first, the notifier last, within --shutdown-timeout; exit 0.
@Suite("wherry run shutdown")
struct RunShutdownTests {
    /// A repository with one ConfigMap, and a config for it that notifies `webhook`.
    private static func setUp(
        _ remote: GitRemoteFixture, _ work: TemporaryDirectory, webhook: String
    ) async throws -> String {
        try await remote.commit([
            "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n"
        ])
        return try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nwebhook_url: \(webhook)\nservices:\n"
                + "  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: default}\n")
    }

    private static func isSettingsWrite(_ request: FakeAPIServer.RecordedRequest) -> Bool {
        request.isWrite && request.path.hasSuffix("/configmaps/settings")
    }

    @Test("SIGTERM during an apply: the apply finishes, its notification is still delivered, and the exit is 0")
    func notificationSurvivesShutdown() async throws {
        try await RecordingHTTPServer.withServer { receiver, baseURL in
            try await FakeAPIServer.withServer { server in
                let remote = try await GitRemoteFixture()
                let work = try TemporaryDirectory(prefix: "shutdown")
                defer { remote.remove(); work.remove() }
                let config = try await Self.setUp(remote, work, webhook: baseURL + "/hook")
                // The apply is in flight for a while: SIGTERM lands in the middle of it.
                server.delayResponses(by: .seconds(2)) { Self.isSettingsWrite($0) }
                let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
                let run = try await RunningWherry.start(
                    [
                        "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                        "127.0.0.1:0",
                    ], work: work, name: "run")
                defer { run.kill() }
                for _ in 0..<300 where !server.requests.contains(where: Self.isSettingsWrite) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try #require(server.requests.contains(where: Self.isSettingsWrite), "\(run.stderr)")
                #expect(receiver.requests.isEmpty)
                kill(run.process.processIdentifier, SIGTERM)
                let status = try await run.exit(within: 30)
                #expect(status == 0, "\(run.stderr)")
                #expect(server.object(resource: "configmaps", namespace: "default", name: "settings") != nil)
                let delivered = receiver.requests.filter { $0.path == "/hook" }
                #expect(delivered.count == 1, "\(run.stderr)")
                let body = try JSONValue.parse(delivered.first?.body ?? [])
                #expect(body["service_name"] == "shop")
                #expect(body["status"] == "success")
            }
        }
    }

    @Test("an apply that outlasts --shutdown-timeout is cancelled, and wherry still exits 0 in time")
    func drainIsBounded() async throws {
        try await RecordingHTTPServer.withServer { receiver, baseURL in
            try await FakeAPIServer.withServer { server in
                let remote = try await GitRemoteFixture()
                let work = try TemporaryDirectory(prefix: "shutdown")
                defer { remote.remove(); work.remove() }
                let config = try await Self.setUp(remote, work, webhook: baseURL + "/hook")
                server.delayResponses(by: .seconds(120)) { Self.isSettingsWrite($0) }
                let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
                let run = try await RunningWherry.start(
                    [
                        "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                        "127.0.0.1:0", "--shutdown-timeout", "3",
                    ], work: work, name: "run")
                defer { run.kill() }
                for _ in 0..<300 where !server.requests.contains(where: Self.isSettingsWrite) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try #require(server.requests.contains(where: Self.isSettingsWrite), "\(run.stderr)")
                kill(run.process.processIdentifier, SIGTERM)
                // Far less than the held write (and the client's 60 s request timeout): the drain was cut short.
                let status = try await run.exit(within: 20)
                #expect(status == 0, "\(run.stderr)")
                #expect(run.stderr.contains("Graceful shutdown took too long"))
                // A cancelled apply is not a failure to report.
                #expect(!receiver.requests.contains { (try? JSONValue.parse($0.body))?["status"] == "failed" })
                server.releaseDelays()
            }
        }
    }

    @Test("--shutdown-timeout must be positive")
    func badShutdownTimeout() async throws {
        let out = try await CLI.run(["run", "--shutdown-timeout", "0"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("--shutdown-timeout must be more than 0 seconds"))
    }
}
