import Foundation
import WherryExec
import WherryTesting

/// Runs the built `wherry` binary, as a user would.
enum CLI {
    struct Output {
        var exitCode: Int32?
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// `wherry` next to the test bundle (the products directory of this build).
    static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("wherry").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return "\(packageRoot)/.build/debug/wherry"
    }()

    static func run(
        _ arguments: [String], environment: [String: String?] = [:], in directory: String? = nil
    )
        async throws -> Output
    {
        // Not the package's directory by default: git must not find a repository (or a worktree's broken link)
        // around the command, as it would not around a user's.
        let result = try await CommandRunner.run(
            Command(
                binary, arguments, environment: environment, workingDirectory: directory ?? NSTemporaryDirectory(),
                timeout: .seconds(120)))
        return Output(exitCode: result.exitCode, stdout: result.stdoutText, stderr: result.stderr)
    }

    /// A kubeconfig for a server, with a token user (`kube-token-123456`, which must never be printed).
    static func writeKubeconfig(in work: TemporaryDirectory, server: String) throws -> String {
        try work.write(
            "kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "\(server)"}}]
            users: [{name: me, user: {token: kube-token-123456}}]
            contexts: [{name: fake, context: {cluster: fake, user: me}}]
            current-context: fake
            """)
    }
}
