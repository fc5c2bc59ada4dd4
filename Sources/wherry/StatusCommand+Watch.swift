import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel

extension StatusCommand {
    /// `--watch`: after the table, one line per event of the controller's stream (`GET /v1/gitops/events`), until
    /// interrupted; a dropped connection is resumed from the last event seen (`Last-Event-ID`).
    func watch(_ base: String) async throws {
        try await EventFollower(base: base).run(follow: true) { Self.line($0) }
    }

    /// `12:04:05  shop  state_changed  succeeded`, or `nil` for a frame without a body.
    static func line(_ event: ServerSentEvents.Event) -> String? {
        if event.type == "reset" { return "-- events were missed (the controller restarted?); run wherry status again" }
        guard let data = try? JSONValue.parse(event.data) else { return nil }
        let time = data["time"]?.stringValue.map { String($0.dropFirst(11).prefix(8)) } ?? ""
        let service = data["service"]?.stringValue ?? "?"
        let detail: String
        switch event.type {
        case "reconcile_started": detail = "trigger " + (data["trigger"]?.stringValue ?? "?")
        case "reconcile_finished":
            detail = [
                data["result"]?.stringValue, data["revision"]?.stringValue.map { String($0.prefix(12)) },
                data["error"]?.stringValue.map(firstLine),
            ].compactMap { $0 }.joined(separator: " ")
        case "state_changed":
            detail =
                (data["state"]?.stringValue ?? "?") + (data["waiting_for"]?.stringValue.map { " for \($0)" } ?? "")
        case "drift_corrected":
            detail = (data["objects"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
        default: detail = data["error"]?.stringValue.map(firstLine) ?? ""
        }
        return [time, service, event.type, detail].joined(separator: "  ")
    }
}

/// Reads the controller's event stream (`GET /v1/gitops/events`) and writes a line per event, for `status --watch`
/// and `wherry events`.
struct EventFollower {
    /// `http://host:port`.
    let base: String

    /// With `follow`, from now on until interrupted; a dropped connection is resumed from the last event seen
    /// (`Last-Event-ID`). Without, the events the controller still holds, then returns. `format` makes the line of
    /// an event (`nil`: print nothing for it).
    func run(follow: Bool, format: (ServerSentEvents.Event) -> String?) async throws {
        // What was printed before went through stdio's buffer; the events are written directly, after it.
        fflush(nil)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        // Without follow: everything held (`after=0`), and the answer ends after it.
        var lastEventID: String? = follow ? nil : "0"
        var parser = ServerSentEvents()
        var failures = 0
        while !Task.isCancelled {
            var request = HTTPClientRequest(url: base + "/v1/gitops/events" + (follow ? "" : "?follow=false"))
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            do {
                let response = try await client.execute(request, timeout: follow ? .hours(24 * 365) : .seconds(30))
                guard response.status == .ok else {
                    Terminal.error("\(base): the event stream answered HTTP \(response.status.code)")
                    throw ExitStatus.failure.code
                }
                failures = 0
                for try await buffer in response.body {
                    for event in parser.feed(String(buffer: buffer)) {
                        if let id = event.id { lastEventID = id }
                        // Written at once (not buffered): one line per event as it happens, also into a pipe.
                        if let line = format(event) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
                    }
                }
                if !follow { return }
            } catch let error as ExitCode {
                throw error
            } catch {
                failures += 1
                if failures >= 5 || !follow {
                    Terminal.error(
                        "no Wherry controller answers at \(base), or it lost the event stream (\(error)); is `wherry "
                            + "run` running there? pass --server or set WHERRY_SERVER")
                    throw ExitStatus.failure.code
                }
            }
            parser = ServerSentEvents()
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// A parser of the `text/event-stream` format, fed chunks as they arrive.
struct ServerSentEvents {
    struct Event: Equatable {
        var id: String?
        var type: String
        var data: String
    }

    private var pending = ""
    private var current = Event(id: nil, type: "message", data: "")
    private var hasData = false

    /// The events completed by this chunk.
    mutating func feed(_ chunk: String) -> [Event] {
        pending += chunk
        var events: [Event] = []
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline]).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            pending = String(pending[pending.index(after: newline)...])
            if line.isEmpty {
                if hasData { events.append(current) }
                current = Event(id: nil, type: "message", data: "")
                hasData = false
                continue
            }
            if line.hasPrefix(":") { continue }
            let (field, value) = Self.split(line)
            switch field {
            case "id": current.id = value
            case "event": current.type = value
            case "data":
                current.data += (hasData ? "\n" : "") + value
                hasData = true
            default: break
            }
        }
        return events
    }

    static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
