import Foundation
import Testing
import WherryExec
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// Issue 14, item 2, on a real API server: two `wherry run --leader-elect` processes; the leader is frozen (SIGSTOP)
/// in the middle of a 300-object apply of v1, v2 lands, the other takes over and applies v2; the old leader is woken
/// (SIGCONT) and must not write one stale object.
@Suite(
    "E2E: a frozen leader writes nothing after it wakes",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct LeaderFencingE2ETests {
    /// The `wherry` binary of this build.
    static var binary: String { KillScenarios.binary }

    /// A started `wherry run` and the port it listens on.
    private struct Running {
        let process: Process
        let port: Int
        let stderr: String

        var log: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }

        func readyz() async -> String {
            let result = try? await CommandRunner.run(
                Command("curl", ["-s", "http://127.0.0.1:\(port)/readyz"], timeout: .seconds(10)))
            return result?.stdoutText ?? ""
        }

        func stop() -> Int32? {
            guard process.isRunning else { return process.terminationStatus }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    private func start(_ arguments: [String], work: TemporaryDirectory, name: String) async throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["run"] + arguments
        let stderr = try work.write("stderr-\(name).txt", "")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        try process.run()
        for _ in 0..<300 {
            let text = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                return Running(
                    process: process, port: Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0, stderr: stderr)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        throw FixtureError("wherry run \(name) did not listen")
    }

    private func eventually(_ seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    @Test("SIGSTOP the leader mid-apply, let the other apply v2, SIGCONT it: no stale v1 write")
    func frozenLeader() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build wherry first: \(Self.binary)")
        let api = try E2ECluster.api()
        let suffix = ApplyScenarios.uniqueSuffix()
        let apps = "wherry-e2e-\(suffix)"
        let system = apps + "-sys"
        let work = try TemporaryDirectory(prefix: "fencing")
        let remote = try await GitRemoteFixture()
        defer {
            work.remove()
            remote.remove()
        }
        let count = 300
        func manifests(_ version: String) -> [String: String] {
            var files = ["k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(apps)}\n"]
            for index in 0..<count {
                files["k8s/cm-\(index).yaml"] =
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(index)}\ndata: {version: \(version)}\n"
            }
            return files
        }
        /// The ConfigMaps by name: version and resourceVersion.
        func configMaps() async throws -> [String: (version: String, resourceVersion: String)] {
            var found: [String: (String, String)] = [:]
            for item in try await api.list("/api/v1/namespaces/\(apps)/configmaps", labelSelector: nil) {
                guard let name = item["metadata"]?["name"]?.stringValue, name.hasPrefix("cm-") else { continue }
                found[name] = (
                    item["data"]?["version"]?.stringValue ?? "",
                    item["metadata"]?["resourceVersion"]?.stringValue ?? ""
                )
            }
            return found
        }
        var processes: [Running] = []
        do {
            _ = try await api.apply(
                "/api/v1/namespaces/\(system)",
                object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(system)]],
                options: ApplyOptions(fieldManager: "e2e"))
            try await remote.commit(manifests("v1"))
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
                    + "  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: \(apps)}\n")
            func arguments(_ name: String) -> [String] {
                [
                    "-c", config, "--kubeconfig", E2ECluster.kubeconfig, "--listen", "127.0.0.1:0",
                    "--leader-elect", "--namespace", system, "--identity", name, "--state-dir",
                    work.path + "/state-\(name)",
                    // The timings; a paced client makes the 300-object apply last long enough to freeze.
                    "--lease-duration", "6", "--lease-renew-deadline", "4", "--lease-retry-period", "1",
                    "--concurrency", "1", "--qps", "40", "--burst", "1",
                ]
            }
            let a = try await start(arguments("a"), work: work, name: "a")
            processes.append(a)
            #expect(try await eventually(30) { await a.readyz().contains("\"ready\"") }, "\(a.log)")
            let b = try await start(arguments("b"), work: work, name: "b")
            processes.append(b)
            #expect(try await eventually(30) { await b.readyz().contains("\"standby\"") }, "\(b.log)")
            // Freeze a in the middle of its apply.
            #expect(try await eventually(60) { try await configMaps().count >= 30 }, "\(a.log)")
            kill(a.process.processIdentifier, SIGSTOP)
            let frozen = try await configMaps().count
            #expect(frozen < count, "a finished its apply before it was frozen")
            try await remote.commit(manifests("v2"))
            // b takes over and applies v2 to all 300.
            let allV2 = try await eventually(120) {
                let now = try await configMaps()
                return now.count == count && now.values.allSatisfy { $0.version == "v2" }
            }
            #expect(allV2, "\(b.log)")
            let before = try await configMaps()
            kill(a.process.processIdentifier, SIGCONT)
            #expect(try await eventually(30) { await a.readyz().contains("\"standby\"") }, "\(a.log)")
            try await Task.sleep(for: .seconds(3))
            let after = try await configMaps()
            let rewritten = before.keys.filter { after[$0]?.resourceVersion != before[$0]?.resourceVersion }.sorted()
            #expect(rewritten.isEmpty, "woken leader wrote \(rewritten.prefix(10))")
            #expect(after.values.allSatisfy { $0.version == "v2" })
            let lease = try await api.get("/apis/coordination.k8s.io/v1/namespaces/\(system)/leases/wherry-leader")
            #expect(lease["spec"]?["holderIdentity"] == "b")
            print("E2E fencing: a frozen after \(frozen) of \(count) objects; \(rewritten.count) written after waking")
            #expect(a.stop() == 0, "\(a.log)")
            #expect(b.stop() == 0, "\(b.log)")
        } catch {
            for running in processes where running.process.isRunning {
                kill(running.process.processIdentifier, SIGCONT)
                kill(running.process.processIdentifier, SIGKILL)
            }
            try? await api.delete("/api/v1/namespaces/\(apps)", options: DeleteOptions())
            try? await api.delete("/api/v1/namespaces/\(system)", options: DeleteOptions())
            await api.shutdown()
            throw error
        }
        for running in processes where running.process.isRunning {
            kill(running.process.processIdentifier, SIGCONT)
            kill(running.process.processIdentifier, SIGKILL)
        }
        try? await api.delete("/api/v1/namespaces/\(apps)", options: DeleteOptions())
        try? await api.delete("/api/v1/namespaces/\(system)", options: DeleteOptions())
        await api.shutdown()
    }
}
