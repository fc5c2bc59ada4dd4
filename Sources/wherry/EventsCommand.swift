import ArgumentParser
import Foundation
import WherryModel

/// `wherry events`: the running controller's events (reconciles, state changes, drift corrections).
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the events of a running controller (wherry run): reconciles, state changes, drift.",
        discussion: """
            Prints the events the controller still holds (its recent ones), one line each, and ends; with \
            --follow it keeps printing new ones as they happen until interrupted (a dropped connection is resumed \
            where it stopped). The stream is GET /v1/gitops/events (Server-Sent Events).

            Examples:
              wherry events
              wherry events --follow --service shop
              wherry events --output json | jq -c 'select(.type == "drift_corrected")'
            """
    )

    @Flag(name: .shortAndLong, help: "Keep printing events as they happen, until interrupted.")
    var follow = false

    @Option(help: "Only the events of this service.")
    var service: String?

    @OptionGroup var server: ServerOptions

    @Option(
        name: .shortAndLong,
        help: "Output format: text, or json (one JSON object per line: id, type and the event's fields).")
    var output: OutputFormat = .text

    func run() async throws {
        let client = try server.client()
        let filter = service
        let json = output == .json
        try await EventFollower(base: client.base).run(follow: follow) { event in
            guard event.type != "reset" else {
                if !json { return StatusCommand.line(event) }
                return #"{"type":"reset"}"#
            }
            guard let data = try? JSONValue.parse(event.data) else { return nil }
            if let filter, data["service"]?.stringValue != filter { return nil }
            guard json else { return StatusCommand.line(event) }
            var object: JSONObject = ["id": event.id.map(JSONValue.string) ?? .null, "type": .string(event.type)]
            for (key, value) in (data.objectValue ?? JSONObject()).members where key != "type" { object[key] = value }
            return JSONValue.object(object).jsonString()
        }
    }
}
