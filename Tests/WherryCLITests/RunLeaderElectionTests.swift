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
                "default", "--lease-duration", "4", "--lease-renew-deadline", "3", "--lease-retry-period", "0.3",
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
            #expect(handover < .seconds(10), "\(handover)")
            let lease = server.object(
                group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "wherry-leader")
            #expect(lease?["spec"]?["holderIdentity"] == "b")
            b.process.terminate()
            b.process.waitUntilExit()
            #expect(b.process.terminationStatus == 0)
            // b let go on its way out.
            let released = server.object(
                group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "wherry-leader")
            let log = (try? String(contentsOfFile: work.path + "/stderr-b.txt", encoding: .utf8)) ?? ""
            #expect(released?["spec"]?["holderIdentity"] == "", "b's log:\n\(log.suffix(3000))")
        }
    }

    @Test("a leader frozen in the middle of an apply writes nothing once woken after another took over")
    func frozenLeaderStaysSilent() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "leader")
            defer { remote.remove(); work.remove() }
            let count = 60
            func manifests(_ version: String) -> [String: String] {
                var files: [String: String] = [:]
                for index in 0..<count {
                    files["k8s/cm-\(index).yaml"] =
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(index)}\ndata: {version: \(version)}\n"
                }
                return files
            }
            try await remote.commit(manifests("v1"))
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
                    + "  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: default}\n")
            func arguments(_ name: String) throws -> [String] {
                [
                    "-c", config, "--listen", "127.0.0.1:0", "--leader-elect", "--namespace", "default",
                    "--lease-duration", "2", "--lease-renew-deadline", "1.5", "--lease-retry-period", "0.2",
                    "--concurrency", "1", "--identity", name, "--state-dir", work.path + "/state-\(name)",
                    "--kubeconfig",
                    try RunningWherry.kubeconfig(in: work, server: server.baseURL, token: "token-\(name)"),
                ]
            }
            // a's writes of the service's objects are slow, so it is frozen in the middle of the apply.
            server.delayResponses(by: .milliseconds(150)) {
                $0.isWrite && $0.headers["authorization"] == "Bearer token-a" && $0.path.contains("/configmaps/cm-")
            }
            /// Writes by `name` of anything but the Lease (whose updates are conditional on its resourceVersion).
            func writes(by name: String) -> Int {
                server.requests.filter {
                    $0.isWrite && $0.headers["authorization"] == "Bearer token-\(name)" && !$0.path.contains("/leases")
                }.count
            }
            func version(_ index: Int) -> JSONValue? {
                server.object(resource: "configmaps", namespace: "default", name: "cm-\(index)")?["data"]?["version"]
            }
            let a = try await RunningWherry.start(try arguments("a"), work: work, name: "a")
            defer { a.kill() }
            #expect(try await eventually(15) { try await a.readyz().contains("\"ready\"") })
            let b = try await RunningWherry.start(try arguments("b"), work: work, name: "b")
            defer { b.kill() }
            #expect(try await eventually(15) { try await b.readyz().contains("\"standby\"") })
            #expect(try await eventually(15) { writes(by: "a") >= 8 })
            kill(a.process.processIdentifier, SIGSTOP)
            let frozenAt = writes(by: "a")
            #expect(frozenAt < count, "a finished its apply before it was frozen")
            try await remote.commit(manifests("v2"))
            // b takes over and applies v2 to every object.
            #expect(try await eventually(30) { (0..<count).allSatisfy { version($0) == "v2" } }, "\(b.stderr)")
            #expect(writes(by: "a") == frozenAt)
            kill(a.process.processIdentifier, SIGCONT)
            // a wakes with its v1 apply half done: it must stand by without one more write.
            #expect(try await eventually(15) { try await a.readyz().contains("\"standby\"") }, "\(a.stderr)")
            try await Task.sleep(for: .seconds(2))
            #expect(writes(by: "a") == frozenAt, "\(a.stderr)")
            #expect((0..<count).allSatisfy { version($0) == "v2" })
            let lease = server.object(
                group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "wherry-leader")
            #expect(lease?["spec"]?["holderIdentity"] == "b")
            for running in [a, b] { kill(running.process.processIdentifier, SIGTERM) }
            #expect(try await a.exit(within: 30) == 0)
            #expect(try await b.exit(within: 30) == 0)
        }
    }
}
