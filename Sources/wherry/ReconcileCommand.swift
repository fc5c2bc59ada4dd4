import ArgumentParser
import Foundation
import WherryModel

/// `wherry reconcile SERVICE [--wait]`: asks the running controller to sync a service now.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Ask the running controller to reconcile a service now (like flux reconcile / argocd app sync).",
        discussion: """
            Queues a manual sync (POST /v1/gitops/services/SERVICE/sync): the branch head is read again and the \
            service applied even when nothing changed in Git. With --wait, waits for that reconcile to finish and \
            prints its result: exit 0 when it succeeded, 1 when it failed or the wait timed out. Needs the \
            controller's API token ($WHERRY_API_TOKEN or --token-file).

            Examples:
              wherry reconcile web
              wherry reconcile web --wait --timeout 10m
              wherry reconcile web --wait --output json --server wherry.internal:8080
            """)

    @Argument(help: "The service to reconcile.")
    var service: String

    @Flag(help: "Wait until the reconcile finished, print its result, and exit 1 when it failed.")
    var wait = false

    @Option(help: "How long --wait waits: 90s, 5m, 1h.")
    var timeout: WaitTimeout = WaitTimeout(argument: "5m")!

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        let client = try server.client()
        let name = service
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        let path = "/v1/gitops/services/\(escaped)/sync"
        guard wait else {
            let answer = try await client.post(path)
            if output == .json {
                print(answer.prettyJSONString())
            } else {
                print("reconcile of service \(name) queued")
            }
            return
        }
        let waiting = WaitNote()
        let ending: ControllerEvents.Ending<JSONValue> = try await ControllerEvents(base: client.base).follow(
            timeout: timeout.duration, opened: { _ = try await client.post(path) },
            handle: { type, data in
                guard data["service"]?.stringValue == name else { return nil }
                switch type {
                case "reconcile_started" where data["trigger"]?.stringValue == "manual":
                    waiting.started = true
                case "state_changed" where data["state"]?.stringValue == "waiting":
                    if let dependency = data["waiting_for"]?.stringValue, waiting.note(dependency) {
                        Terminal.error("service \(name) waits for service \(dependency) to succeed first")
                    }
                case "reconcile_finished" where waiting.started:
                    return data
                default: break
                }
                return nil
            })
        switch ending {
        case .timedOut:
            let status = try? await client.get("/v1/gitops/services/\(escaped)")
            if let dependency = status?["waiting_for"]?.stringValue, waiting.note(dependency) {
                Terminal.error("service \(name) waits for service \(dependency) to succeed first")
            }
            Terminal.error(
                "timed out after \(timeout) waiting for the reconcile of service \(name) to finish (it may still "
                    + "run: see wherry status); pass a longer --timeout")
            throw ExitStatus.failure.code
        case .settled(let data):
            // Only an apply (or an up-to-date check) is a success: a cancelled or suspended run applied nothing.
            let failed = !ReconcileSummary.succeeded(data)
            if output == .json {
                print(data.prettyJSONString())
            } else if failed {
                Terminal.error("service \(name): \(ReconcileSummary.text(data))")
            } else {
                print("service \(name): \(ReconcileSummary.text(data))")
            }
            if failed { throw ExitStatus.failure.code }
        }
    }
}

/// What the event handler of `--wait` learnt so far.
final class WaitNote: @unchecked Sendable {
    private let lock = NSLock()
    private var _started = false
    private var told: Set<String> = []

    var started: Bool {
        get { lock.withLock { _started } }
        set { lock.withLock { _started = newValue } }
    }

    /// Whether `dependency` is new (said once).
    func note(_ dependency: String) -> Bool { lock.withLock { told.insert(dependency).inserted } }
}
