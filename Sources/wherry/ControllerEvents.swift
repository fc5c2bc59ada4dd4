import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel

/// `--timeout 5m`: a duration as `90`, `90s`, `5m`, `1h` or `1h30m`.
struct WaitTimeout: ExpressibleByArgument, CustomStringConvertible {
    var seconds: Double
    var text: String

    /// The longest wait: 30 days (a longer one, or `inf`, would overflow the clock).
    static let maximum = 30 * 86_400.0

    init?(argument: String) {
        guard let seconds = Self.parse(argument), seconds > 0, seconds.isFinite, seconds <= Self.maximum else {
            return nil
        }
        self.seconds = seconds
        text = argument
    }

    var description: String { text }
    var duration: Duration { .milliseconds(Int64(seconds * 1000)) }

    static func parse(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}

/// Follows a running controller's event stream (`GET /v1/gitops/events`) until a handler settles, or a timeout.
struct ControllerEvents {
    let base: String

    /// What ``follow(timeout:opened:handle:)`` ends with.
    enum Ending<T: Sendable>: Sendable {
        case settled(T)
        case timedOut
    }

    /// Opens the stream, calls `opened` once the controller has subscribed this client (so nothing that `opened`
    /// causes is missed), then hands every event (its type and JSON) to `handle` until it returns a value. A stream
    /// that drops is resumed from the last event seen; a controller that restarted meanwhile is an error (exit 1).
    func follow<T: Sendable>(
        timeout: Duration, opened: @escaping @Sendable () async throws -> Void,
        handle: @escaping @Sendable (String, JSONValue) async throws -> T?
    ) async throws -> Ending<T> {
        try await withThrowingTaskGroup(of: Ending<T>.self) { group in
            group.addTask { .settled(try await self.stream(opened: opened, handle: handle)) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }

    private func stream<T: Sendable>(
        opened: @Sendable () async throws -> Void, handle: @Sendable (String, JSONValue) async throws -> T?
    ) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        var lastEventID: String?
        var isOpen = false
        var failures = 0
        while true {
            try Task.checkCancellation()
            var parser = ServerSentEvents()
            var request = HTTPClientRequest(url: base + "/v1/gitops/events")
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            do {
                let response = try await client.execute(request, timeout: .hours(24 * 365))
                guard response.status == .ok else {
                    Terminal.error("\(base): the event stream answered HTTP \(response.status.code)")
                    throw ExitStatus.failure.code
                }
                failures = 0
                for try await buffer in response.body {
                    if !isOpen {
                        // The first bytes come after the controller subscribed this client.
                        isOpen = true
                        try await opened()
                    }
                    for event in parser.feed(String(buffer: buffer)) {
                        if let id = event.id { lastEventID = id }
                        if event.type == "reset" {
                            Terminal.error("\(base): the controller restarted meanwhile; run the command again")
                            throw ExitStatus.failure.code
                        }
                        guard let data = try? JSONValue.parse(event.data) else { continue }
                        if let value = try await handle(event.type, data) { return value }
                    }
                }
            } catch let error as ExitCode {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failures += 1
                if failures >= 5 || !isOpen {
                    Terminal.error(
                        "no Wherry controller answers at \(base) (is `wherry run` running there? pass --server or "
                            + "set WHERRY_SERVER)")
                    throw ExitStatus.failure.code
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// One line about a finished reconcile: `succeeded at 1a2b3c4d5e6f (2 created, 1 configured)`, or the error.
enum ReconcileSummary {
    /// Whether a finished reconcile's result counts as done: `succeeded`, `unchanged`, or `superseded` (applied; a
    /// newer commit runs next). `failed`, `cancelled` (the controller stopped or lost its lease), `suspended`, and
    /// a result this version does not know, are not.
    static func succeeded(_ data: JSONValue) -> Bool {
        ["succeeded", "unchanged", "superseded"].contains(data["result"]?.stringValue ?? "")
    }

    static func text(_ data: JSONValue) -> String {
        let result = data["result"]?.stringValue ?? "?"
        var text = result
        if let revision = data["revision"]?.stringValue { text += " at \(revision.prefix(12))" }
        if case .object(let changes)? = data["changes"] {
            let parts = changes.members.compactMap { key, value -> String? in
                guard case .int(let count) = value, count > 0 else { return nil }
                return "\(count) \(key)"
            }
            if !parts.isEmpty { text += " (" + parts.joined(separator: ", ") + ")" }
        }
        if let error = data["error"]?.stringValue { text += ":\n" + error }
        return text
    }
}
