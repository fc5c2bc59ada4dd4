import Foundation
import Testing
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// The commands that control `wherry run`, run as a user would, against a controller on the real API server.
@Suite(
    "E2E: wherry suspend, resume, reconcile and wait against wherry run on a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct ControlCommandsE2ETests {
    /// `wherry` next to the test bundle (this build's products).
    static let binary: String = {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("wherry")
            .path
    }()

    /// Runs `wherry ARGS`; exit status, stdout, stderr.
    static func wherry(
        _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> (
        Int32, String, String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    static func configMap(_ namespace: String, _ value: String) -> [String: String?] {
        [
            "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: \(namespace)}\n"
                + "data: {value: \"\(value)\"}\n",
        ]
    }

    @Test("wait for the head, suspend (a reconcile is refused), resume, wait for a revision, reconcile --wait")
    func controlCommands() async throws {
        let api = try E2ECluster.api()
        let namespace = "e2e-17a-cli-\(ApplyScenarios.uniqueSuffix())"
        let own = namespace + "-wherry"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "e2e-17a")
        defer { remote.remove(); work.remove() }
        let first = try await remote.commit(Self.configMap(namespace, "1"))
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 2\napi_token_env: E2E_17A_TOKEN\n"
                + "services:\n  - {name: web, github: r, k8s_yaml_dir: app}\n")
        let stderrPath = try work.write("run.txt", "")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: Self.binary)
        run.arguments = [
            "run", "-c", config, "--kubeconfig", E2ECluster.kubeconfig, "--namespace", own, "--state-dir",
            work.path + "/state", "--listen", "127.0.0.1:0",
        ]
        run.environment = ProcessInfo.processInfo.environment.merging(["E2E_17A_TOKEN": "e2e-token"]) { $1 }
        run.standardOutput = FileHandle.nullDevice
        run.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try run.run()
        func cleanup() async {
            if run.isRunning { kill(run.processIdentifier, SIGTERM) }
            run.waitUntilExit()
            for name in [namespace, own] {
                try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
            }
            await api.shutdown()
        }
        do {
            var port = 0
            for _ in 0..<100 where port == 0 {
                let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                }
                if port == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(port != 0)
            let server = ["--server", "127.0.0.1:\(port)"]
            let token = ["WHERRY_API_TOKEN": "e2e-token"]
            func value() async -> JSONValue? {
                try? await api.get("/api/v1/namespaces/\(namespace)/configmaps/cm")["data"]?["value"]
            }

            var (code, out, err) = try await Self.wherry(["wait", "web", "--timeout", "60s"] + server)
            #expect(code == 0, "\(out)\(err)")
            #expect(out.contains("applied \(first.prefix(12))"), "\(out)\(err)")
            #expect(await value() == "1")

            (code, out, err) = try await Self.wherry(["suspend", "web"] + server, environment: token)
            #expect(code == 0, "\(out)\(err)")
            let second = try await remote.commit(Self.configMap(namespace, "2"))
            (code, out, err) = try await Self.wherry(["reconcile", "web"] + server, environment: token)
            #expect(code == 1, "\(out)\(err)")
            #expect(err.contains("wherry resume web"), "\(err)")
            try await Task.sleep(for: .seconds(5))
            #expect(await value() == "1")

            (code, out, err) = try await Self.wherry(["resume", "web"] + server, environment: token)
            #expect(code == 0, "\(out)\(err)")
            (code, out, err) = try await Self.wherry(
                ["wait", "web", "--revision", String(second.prefix(10)), "--timeout", "60s"] + server)
            #expect(code == 0, "\(out)\(err)")
            #expect(await value() == "2")

            (code, out, err) = try await Self.wherry(
                ["reconcile", "web", "--wait", "-o", "json"] + server, environment: token)
            #expect(code == 0, "\(out)\(err)")
            #expect((try? JSONValue.parse(Array(out.utf8)))?["result"] == .string("succeeded"), "\(out)\(err)")
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }
}
