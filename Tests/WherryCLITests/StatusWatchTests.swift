import Foundation
import Testing
import WherryTesting

@Suite("wherry status --watch, on the event stream of wherry run")
struct StatusWatchTests {
    @Test("after the table, one line per event: a push shows as started, reconciling, finished, succeeded")
    func watch() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "watch")
            defer { remote.remove(); work.remove() }
            let configMap = { (value: String) in
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  value: \"\(value)\"\n"
            }
            try await remote.commit(["shop/cm.yaml": configMap("1")])
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
                    + "  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}\n")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0",
                ],
                work: work, name: "watch")
            defer { wherry.kill() }
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: CLI.binary)
            watcher.arguments = ["status", "--server", "http://127.0.0.1:\(wherry.port)", "--watch"]
            let output = try work.write("watch.txt", "")
            watcher.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            watcher.standardError = watcher.standardOutput
            try watcher.run()
            defer { if watcher.isRunning { kill(watcher.processIdentifier, SIGKILL) } }
            var text = ""
            for _ in 0..<100 where !text.contains("SERVICE") {
                try await Task.sleep(for: .milliseconds(100))
                text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            }
            let commit = try await remote.commit(["shop/cm.yaml": configMap("2")])
            let finished = "shop  reconcile_finished  succeeded \(commit.prefix(12))"
            for _ in 0..<200 where !text.contains(finished) {
                try await Task.sleep(for: .milliseconds(100))
                text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            }
            #expect(text.contains("SERVICE"), "\(text)")
            #expect(text.contains("shop  reconcile_started  trigger poll"), "\(text)")
            #expect(text.contains("shop  state_changed  reconciling"), "\(text)")
            #expect(text.contains(finished), "\(text)")
            #expect(text.contains("shop  state_changed  succeeded"), "\(text)")
        }
    }
}
