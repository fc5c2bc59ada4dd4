import Foundation
import WherryExec
import WherryTesting

/// A `wherry run` process started by a test, and the port its HTTP API listens on.
struct RunningWherry {
    let process: Process
    let port: Int
    /// The file its stderr goes to.
    let stderrPath: String

    /// Starts `wherry run` with `arguments` (add `--listen 127.0.0.1:0`), its stderr in `work`, and waits until it
    /// listens.
    static func start(
        _ arguments: [String], work: TemporaryDirectory, name: String, environment: [String: String] = [:]
    ) async throws -> RunningWherry {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["run"] + arguments
        // Not the package's directory: git must not find a repository (or a worktree's broken link) around it.
        process.currentDirectoryURL = URL(fileURLWithPath: work.path)
        let stderr = try work.write("stderr-\(name).txt", "")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        try process.run()
        for _ in 0..<300 {
            let text = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                return RunningWherry(process: process, port: port, stderrPath: stderr)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Foundation.kill(process.processIdentifier, SIGKILL)
        throw FixtureError("wherry run \(name) did not listen: \((try? String(contentsOfFile: stderr)) ?? "")")
    }

    /// What it wrote to stderr so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The body of `GET /readyz`.
    func readyz() async throws -> String {
        let result = try await CommandRunner.run(
            Command("curl", ["-s", "http://127.0.0.1:\(port)/readyz"], timeout: .seconds(10)))
        return result.stdoutText
    }

    /// Waits for the process to exit, at most `seconds`; its exit status, or `nil` when it is still running (then
    /// it is killed).
    func exit(within seconds: Int) async throws -> Int32? {
        for _ in 0..<(seconds * 20) where process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills it when it still runs (for `defer`).
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// A kubeconfig for `server` whose user has its own token, so the fake tells this process's requests apart
    /// (`authorization: Bearer <token>`).
    static func kubeconfig(in work: TemporaryDirectory, server: String, token: String) throws -> String {
        try work.write(
            "kubeconfig-\(token)",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "\(server)"}}]
            users: [{name: me, user: {token: \(token)}}]
            contexts: [{name: fake, context: {cluster: fake, user: me}}]
            current-context: fake
            """)
    }
}
