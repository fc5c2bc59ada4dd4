import ArgumentParser
import Foundation
import WherryModel

/// `wherry suspend SERVICE`: stops a running controller from reconciling, correcting drift in or pruning a service,
/// until `wherry resume`.
struct SuspendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend a service of the running controller: no reconcile, drift correction or prune until resumed.",
        discussion: """
            The suspension is kept in the controller's state store and on the service's inventory ConfigMap, so it \
            survives a restart, a new state directory and a change of leader. Needs the controller's API token \
            ($WHERRY_API_TOKEN or --token-file).

            Examples:
              wherry suspend web
              WHERRY_SERVER=wherry.internal:8080 wherry suspend web --token-file /run/secrets/wherry-token
            """)

    @Argument(help: "The service to suspend.")
    var service: String

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        try await SuspensionCall.run(service: service, suspend: true, server: server, output: output)
    }
}

/// `wherry resume SERVICE`: undoes `wherry suspend`; the service is reconciled at once.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a service suspended with wherry suspend; it is reconciled at once.",
        discussion: """
            A service the config suspends (suspend: true) cannot be resumed here: edit the config. Needs the \
            controller's API token ($WHERRY_API_TOKEN or --token-file).

            Examples:
              wherry resume web
              wherry resume web --server 10.0.0.5:8080 --output json
            """)

    @Argument(help: "The service to resume.")
    var service: String

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        try await SuspensionCall.run(service: service, suspend: false, server: server, output: output)
    }
}

/// The call both commands make.
enum SuspensionCall {
    static func run(service: String, suspend: Bool, server: ServerOptions, output: OutputFormat) async throws {
        let client = try server.client()
        let escaped = service.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? service
        let answer = try await client.post("/v1/gitops/services/\(escaped)/\(suspend ? "suspend" : "resume")")
        if output == .json {
            print(answer.prettyJSONString())
            return
        }
        let changed = answer["changed"] == .bool(true)
        let by = answer["suspended_by"]?.stringValue
        switch (suspend, changed) {
        case (true, true): print("service \(service) suspended")
        case (true, false):
            print(
                by == "config"
                    ? "service \(service) is already suspended by its config (suspend: true)"
                    : "service \(service) was already suspended")
        case (false, true): print("service \(service) resumed; a reconcile was queued")
        case (false, false): print("service \(service) was not suspended")
        }
    }
}
