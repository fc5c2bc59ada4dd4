import Foundation
import Testing
import WherryExec
import WherryModel
import WherryTesting

/// Two `wherry run --leader-elect` processes against one FakeAPIServer: one leads, the other stands by, and takes
/// over when the leader is killed.
@Suite("wherry run with leader election, two processes")
struct RunLeaderElectionTests {
    /// A running `wherry run` and the port it listens on.
    private struct Running {
        let process: Process
        let port: Int

        func readyz() async throws -> String {
            let result = try await CommandRunner.run(
                Command("curl", ["-s", "http://127.0.0.1:\(port)/readyz"], timeout: .seconds(10)))
            return result.stdoutText
        }
    }

    private func start(_ arguments: [String], work: TemporaryDirectory, name: String) async throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["run"] + arguments + ["--identity", name, "--state-dir", work.path + "/state-\(name)"]
        let stderr = try work.write("stderr-\(name).txt", "")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        try process.run()
        for _ in 0..<300 {
            let text = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                return Running(process: process, port: Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw FixtureError("wherry run \(name) did not listen")
    }

    private func eventually(_ seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("one leads and the other stands by; kill the leader and the other takes over within the lease duration")
    func handover() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "leader")
            defer { remote.remove(); work.remove() }
            try await remote.commit(["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"])
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
                    + "  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: default}\n")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let common = [
                "-c", config, "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--leader-elect", "--namespace",
                "default", "--lease-duration", "2", "--lease-renew-deadline", "1.5", "--lease-retry-period", "0.2",
            ]
            let a = try await start(common, work: work, name: "a")
            defer { if a.process.isRunning { kill(a.process.processIdentifier, SIGKILL) } }
            #expect(try await eventually(15) { try await a.readyz().contains("\"ready\"") })
            let b = try await start(common, work: work, name: "b")
            defer { if b.process.isRunning { b.process.terminate() } }
            #expect(try await eventually(15) { try await b.readyz().contains("\"standby\"") })
            #expect(try await b.readyz().contains("\"leader\":\"a\""))
            kill(a.process.processIdentifier, SIGKILL)
            let died = ContinuousClock.now
            #expect(try await eventually(15) { try await b.readyz().contains("\"ready\"") })
            let handover = ContinuousClock.now - died
            #expect(handover < .seconds(6), "\(handover)")
            let lease = server.object(
                group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "wherry-leader")
            #expect(lease?["spec"]?["holderIdentity"] == "b")
            b.process.terminate()
            b.process.waitUntilExit()
            #expect(b.process.terminationStatus == 0)
            // b let go on its way out.
            let released = server.object(
                group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "wherry-leader")
            #expect(released?["spec"]?["holderIdentity"] == "")
        }
    }
}
