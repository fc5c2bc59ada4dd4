import ArgumentParser
import Foundation
import WherryModel

/// `wherry history SERVICE`: what the running controller did with one service, newest first.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a service's reconcile history from a running controller (wherry run), newest first.",
        discussion: """
            Repeated attempts with the same revision, result and error are one line with a count (×4) and the \
            time of the latest; a drift correction (objects changed in the cluster and put back) is always a line \
            of its own, naming the objects.

            Examples:
              wherry history shop
              wherry history shop --limit 5
              wherry history shop --output json | jq '.history[0].result'
            """
    )

    @Argument(help: "The service.")
    var service: String

    @Option(help: "Show at most this many lines (the controller keeps the latest 20).")
    var limit: Int?

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let client = try server.client()
        let answer = try await client.get("/v1/gitops/services/\(StatusCommand.escape(service))/history")
        var entries = answer["history"]?.arrayValue ?? []
        if let limit { entries = Array(entries.prefix(limit)) }
        if output == .json {
            let document: JSONValue = ["service": .string(service), "history": .array(entries)]
            print(document.prettyJSONString())
            return
        }
        guard !entries.isEmpty else {
            print("service \(service) has no history yet (the controller has not reconciled it)")
            return
        }
        print(StatusCommand.historyTable(entries))
    }
}
