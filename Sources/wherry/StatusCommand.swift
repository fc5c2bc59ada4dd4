import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel

/// `wherry status`: the repositories and services of a running controller, as a table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the services of a running controller (wherry run): revision, state, last apply, errors.",
        discussion: """
            Examples:
              wherry status --server 127.0.0.1:8080
              wherry status --output json
              wherry status --watch
            """
    )

    @Option(help: "Base URL of the controller's API.")
    var server: String = "http://127.0.0.1:8080"

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(help: "After the table, print the controller's events as they happen (reconciles, state changes, drift).")
    var watch = false

    func run() async throws {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        let services = try await Self.get(base + "/v1/gitops/services", server: base)
        if output == .json {
            print(services.prettyJSONString())
            if watch { try await self.watch(base) }
            return
        }
        let rows = (services["services"]?.arrayValue ?? []).map { service -> [String] in
            let revision = service["last_applied_revision"]?.stringValue.map { String($0.prefix(12)) } ?? "-"
            let applied = service["last_applied_time"]?.stringValue.flatMap(Self.age) ?? "-"
            var error = service["last_error"]?.stringValue.map { Self.firstLine($0) } ?? ""
            if let dependency = service["waiting_for"]?.stringValue, error.isEmpty {
                error = "waiting for service \(dependency)"
            }
            let drift = service["drift_corrections"].flatMap { if case .int(let n) = $0 { Int(n) } else { nil } } ?? 0
            return [
                service["name"]?.stringValue ?? "?", service["repo"]?.stringValue ?? "",
                service["state"]?.stringValue ?? "", revision, applied, String(drift), error,
            ]
        }
        print(Self.table([["SERVICE", "REPO", "STATE", "REVISION", "APPLIED", "DRIFT", "ERROR"]] + rows))
        for orphan in services["orphaned"]?.arrayValue ?? [] {
            let name = orphan["service"]?.stringValue ?? "?"
            let count = orphan["objects"].flatMap { if case .int(let n) = $0 { Int(n) } else { nil } } ?? 0
            print(
                "orphaned: service \(name) is no longer configured; its \(count) objects were left in the cluster "
                    + "(remove them with: wherry prune --service \(name))")
        }
        if watch { try await self.watch(base) }
    }

    /// GETs one JSON document; a controller that does not answer is a clear error (exit 1).
    static func get(_ url: String, server: String) async throws -> JSONValue {
        var configuration = HTTPClient.Configuration()
        // A controller that is not there is an answer at once, not something to wait out.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 16 << 20)
            let value = try JSONValue.parse(Array(body.readableBytesView))
            guard response.status == .ok else {
                Terminal.error(
                    "\(server): \(value["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)")")
                throw ExitStatus.failure.code
            }
            return value
        } catch let error as ExitCode {
            throw error
        } catch {
            Terminal.error("no Wherry controller answers at \(server) (is `wherry run` running there? pass --server)")
            throw ExitStatus.failure.code
        }
    }

    /// `3m`, `2h`, `5d` since an ISO 8601 time.
    static func age(_ iso: String) -> String? {
        guard let date = try? Date(iso, strategy: .iso8601) else { return nil }
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s ago"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86400: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86400)d ago"
        }
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count > 80 ? String(line.prefix(79)) + "…" : line
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
