import Foundation
import Testing
import WherryExec
import WherryModel
import WherryTesting

@Suite("wherry run and wherry status, run as a user would")
struct RunCommandTests {
    /// `curl` of a URL: status code and body.
    private static func curl(_ url: String) async throws -> (Int, String) {
        let result = try await CommandRunner.run(
            Command("curl", ["-s", "-w", "\n%{http_code}", url], timeout: .seconds(10)))
        let text = result.stdoutText
        let split = text.lastIndex(of: "\n").map { (String(text[..<$0]), Int(text[text.index(after: $0)...]) ?? 0) }
        return (split?.1 ?? 0, split?.0 ?? "")
    }

    @Test("run applies the services, serves the API and status, and exits 0 on SIGTERM")
    func runServesAndStops() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "run")
            defer { remote.remove(); work.remove() }
            try await remote.commit([
                "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n"
            ])
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s, namespace: default}\n"
            )
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = [
                "run", "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                "127.0.0.1:0",
            ]
            let stderr = try work.write("stderr.txt", "")
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            // The port the system picked, from the line wherry prints when it listens.
            var port = 0
            for _ in 0..<300 where port == 0 {
                let text = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                }
                if port == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(
                port > 0, "wherry run did not listen: \((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")")
            var ready = false
            for _ in 0..<300 where !ready {
                ready =
                    try await Self.curl("http://127.0.0.1:\(port)/readyz").0 == 200
                    && server.object(resource: "configmaps", namespace: "default", name: "settings") != nil
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready)
            let (code, body) = try await Self.curl("http://127.0.0.1:\(port)/v1/gitops/repos")
            #expect(code == 200)
            #expect(try JSONValue.parse(body)["repos"]?.arrayValue?.first?["service_count"] == 1)
            // The object is live a moment before the reconcile is recorded as succeeded.
            var status = try await CLI.run(["status", "--server", "http://127.0.0.1:\(port)"])
            for _ in 0..<50 where !status.stdout.contains("succeeded") {
                try await Task.sleep(for: .milliseconds(100))
                status = try await CLI.run(["status", "--server", "http://127.0.0.1:\(port)"])
            }
            #expect(status.exitCode == 0)
            #expect(status.stdout.contains("shop"))
            #expect(status.stdout.contains("succeeded"))
            #expect(!status.all.contains("kube-token-123456"))
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }

    @Test("status with no controller answering says so and exits 1")
    func statusWithoutController() async throws {
        let out = try await CLI.run(["status", "--server", "http://127.0.0.1:1"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("no Wherry controller answers at http://127.0.0.1:1"))
    }

    @Test("run with a state database it cannot use exits 2 before doing anything")
    func badStateDirectory() async throws {
        let work = try TemporaryDirectory(prefix: "run")
        defer { work.remove() }
        let blocker = try work.write("state", "a file where the state directory should be")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: /nonexistent}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: k}\n")
        let out = try await CLI.run(["run", "-c", config, "--state-dir", blocker, "--kubeconfig", "/nonexistent"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("cannot be created"))
    }

    @Test("a --listen that is not HOST:PORT is a usage error naming the form")
    func badListen() async throws {
        let out = try await CLI.run(["run", "--listen", "8080"])
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("--listen must be HOST:PORT"))
    }
}
