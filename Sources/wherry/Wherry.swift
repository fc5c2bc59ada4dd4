import ArgumentParser
import Foundation
import WherryModel

/// `wherry`: GitOps for Kubernetes.
@main
struct Wherry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wherry",
        abstract: "GitOps for Kubernetes: keep a cluster equal to what Git says.",
        discussion: """
            Reads the Simple GitOps gitops-config.yaml (github_configs, services, poll_interval, ...).

            Exit codes: 0 ok, 1 failure, 2 usage or configuration error.

            Examples:
              wherry render -c gitops-config.yaml
              wherry sync -c gitops-config.yaml --dry-run
              wherry run -c gitops-config.yaml --listen 127.0.0.1:8080
              wherry status --server 127.0.0.1:8080
            """,
        version: WherryVersion.current,
        subcommands: [
            RenderCommand.self, ValidateCommand.self, DiffCommand.self, SyncCommand.self, RunCommand.self,
            StatusCommand.self, TreeCommand.self, HistoryCommand.self, EventsCommand.self, ReconcileCommand.self,
            SuspendCommand.self, ResumeCommand.self, WaitCommand.self, PruneCommand.self, InstallCommand.self,
            CheckCommand.self, CompletionCommand.self, VersionCommand.self,
        ]
    )

    /// Runs the command line, mapping errors to Wherry's exit codes (usage errors are 2, not 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// Wherry's exit codes.
enum ExitStatus: Int32 {
    case ok = 0
    case failure = 1
    case usage = 2

    var code: ExitCode { ExitCode(rawValue) }
}

/// `wherry version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print Wherry's version.",
        discussion: """
            Examples:
              wherry version
            """)

    func run() {
        print("wherry \(WherryVersion.current)")
    }
}
