import ArgumentParser
import Foundation
import WherryModel

/// `wherry status [SERVICE]`: the services of a running controller as a table, or one service in detail.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the services of a running controller (wherry run), or one service in detail.",
        discussion: """
            Without SERVICE: one line per service (state, revision, when it last wrote to the cluster, when it last \
            checked, drift corrections, the first line of the last error) and the orphaned services. With SERVICE: \
            everything about it: the full last error, its objects with live health, drift, dependencies and recent \
            history.

            APPLIED is the last apply that wrote something (created, changed or deleted an object, or put drift \
            back); CHECKED is the last reconcile that found the cluster as Git says. A drift check that wrote nothing \
            moves CHECKED, never APPLIED.

            Exit status: 1 when the service (without SERVICE: any service) failed its last reconcile, or when no \
            controller answers; 0 otherwise.

            Examples:
              wherry status
              wherry status shop
              wherry status shop --output json | jq .service.last_error
              wherry status --server 10.0.0.5:8080 --watch
            """
    )

    @Argument(help: "A service to show in detail.")
    var service: String?

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(help: "After the table, print the controller's events as they happen (reconciles, state changes, drift).")
    var watch = false

    func run() async throws {
        let client = try server.client()
        if let service {
            let failed = try await detail(service, client: client)
            if watch { try await self.watch(client.base) }
            if failed { throw ExitStatus.failure.code }
            return
        }
        let services = try await client.get("/v1/gitops/services")
        if output == .json {
            print(services.prettyJSONString())
        } else {
            print(Self.table(services))
        }
        fflush(nil)
        if watch { try await self.watch(client.base) }
        if (services["services"]?.arrayValue ?? []).contains(where: Self.failed) { throw ExitStatus.failure.code }
    }

    /// Whether a service's last reconcile failed (and it is not suspended).
    static func failed(_ service: JSONValue) -> Bool {
        service["last_result"]?.stringValue == "failed" && service["suspended"] != .bool(true)
    }

    /// The table of every service, and a line per orphaned service.
    static func table(_ services: JSONValue) -> String {
        let rows = (services["services"]?.arrayValue ?? []).map { service -> [String] in
            let revision = service["last_applied_revision"]?.stringValue.map { String($0.prefix(12)) } ?? "-"
            // An older controller has neither key: its last applied time is the closest to both.
            let older = service["last_write_time"] == nil
            let written = service[older ? "last_applied_time" : "last_write_time"]?.stringValue
            let checked = service[older ? "last_applied_time" : "last_check_time"]?.stringValue
            var error = service["last_error"]?.stringValue.map(Self.firstLine) ?? ""
            let lines = service["last_error"]?.stringValue.map { $0.split(separator: "\n").count } ?? 0
            if lines > 1 { error += " (+\(lines - 1) lines: wherry status \(service["name"]?.stringValue ?? ""))" }
            if let dependency = service["waiting_for"]?.stringValue, error.isEmpty {
                error = "waiting for service \(dependency)"
            }
            return [
                service["name"]?.stringValue ?? "?", service["repo"]?.stringValue ?? "",
                service["state"]?.stringValue ?? "", revision, written.flatMap(Self.age) ?? "-",
                checked.flatMap(Self.age) ?? "-", String(Self.int(service["drift_corrections"]) ?? 0), error,
            ]
        }
        var text = Self.table(
            [["SERVICE", "REPO", "STATE", "REVISION", "APPLIED", "CHECKED", "DRIFT", "ERROR"]] + rows)
        for orphan in services["orphaned"]?.arrayValue ?? [] {
            let name = orphan["service"]?.stringValue ?? "?"
            let count = Self.int(orphan["objects"]) ?? 0
            let command = orphan["prune_command"]?.stringValue ?? "wherry prune --service \(name)"
            text +=
                "\norphaned: service \(name) is no longer configured; its \(count) objects were left in the cluster "
                + "(remove them with: \(command))"
        }
        return text
    }

    /// `wherry status SERVICE`; returns whether the service failed.
    func detail(_ name: String, client: ControllerClient) async throws -> Bool {
        let service = try await client.get("/v1/gitops/services/\(Self.escape(name))")
        let history = try await client.get("/v1/gitops/services/\(Self.escape(name))/history")
        // A controller before this route has no live view: the rest is still worth showing.
        let resources = try? await client.getQuietly("/v1/gitops/services/\(Self.escape(name))/resources")
        if output == .json {
            let document: JSONValue = [
                "service": service, "history": history["history"] ?? [],
                "resources": resources ?? .null,
            ]
            print(document.prettyJSONString())
        } else {
            print(Self.describe(service: service, history: history, resources: resources))
        }
        fflush(nil)
        return Self.failed(service)
    }

    /// The text of `wherry status SERVICE`.
    static func describe(service: JSONValue, history: JSONValue, resources: JSONValue?) -> String {
        var lines: [String] = []
        func add(_ label: String, _ value: String) {
            lines.append((label + ":").padding(toLength: 14, withPad: " ", startingAt: 0) + value)
        }
        let name = service["name"]?.stringValue ?? "?"
        add("Service", name)
        add(
            "Source",
            "\(service["repo"]?.stringValue ?? "?") branch \(service["branch"]?.stringValue ?? "?"), directory "
                + (service["k8s_yaml_dir"]?.stringValue ?? "?")
                + (service["namespace"]?.stringValue.map { ", namespace \($0)" } ?? ""))
        var state = service["state"]?.stringValue ?? "?"
        if let failures = int(service["consecutive_failures"]), failures > 0 {
            state += " (\(failures) consecutive failure\(failures == 1 ? "" : "s"))"
        }
        add("State", state)
        if service["suspended"] == .bool(true) { add("Suspended", "yes: reconciles are paused") }
        if let waiting = service["waiting_for"]?.stringValue { add("Waiting for", "service \(waiting)") }
        let dependencies = (service["depends_on"]?.arrayValue ?? []).compactMap(\.stringValue)
        add("Depends on", dependencies.isEmpty ? "-" : dependencies.joined(separator: ", "))
        add("Revision", service["last_applied_revision"]?.stringValue ?? "- (never applied)")
        add(
            "Last write",
            timeText(service["last_write_time"]?.stringValue)
                + (service["last_write_revision"]?.stringValue.map { " at \($0.prefix(12))" } ?? ""))
        add("Last check", timeText(service["last_check_time"]?.stringValue))
        var attempt = timeText(service["last_attempt_time"]?.stringValue)
        if let result = service["last_result"]?.stringValue { attempt += ": " + result }
        if case .double(let seconds)? = service["duration_seconds"] { attempt += String(format: " in %.1fs", seconds) }
        add("Last attempt", attempt)
        add("Changes", changeText(service["changes"]))
        let corrections = int(service["drift_corrections"]) ?? 0
        var drift = "\(corrections) correction\(corrections == 1 ? "" : "s")"
        let drifted = (service["last_drift"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !drifted.isEmpty {
            drift += ", last \(timeText(service["last_drift_time"]?.stringValue)): " + drifted.joined(separator: ", ")
        }
        add("Drift", drift)
        if let error = service["last_error"]?.stringValue {
            lines.append("Last error:")
            lines += error.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        }
        lines.append("")
        lines += objectLines(resources)
        lines.append("")
        let entries = (history["history"]?.arrayValue ?? []).prefix(5)
        lines.append("History (newest first; wherry history \(name) for more):")
        lines += historyTable(Array(entries)).split(separator: "\n").map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    /// `Objects (3: 2 healthy, 1 progressing):` and one line per object.
    static func objectLines(_ resources: JSONValue?) -> [String] {
        guard let resources, let objects = resources["objects"]?.arrayValue else {
            return ["Objects: the controller does not report them (an older version)"]
        }
        let counts = resources["counts"]?.objectValue
        let summary = ["healthy", "progressing", "degraded", "missing", "unknown", "none"].compactMap { key in
            (int(counts?[key]) ?? 0) > 0
                ? "\(int(counts?[key])!) \(key == "none" ? "without a health check" : key)" : nil
        }
        var lines = ["Objects (\(objects.count)\(summary.isEmpty ? "" : ": " + summary.joined(separator: ", "))):"]
        if let note = resources["note"]?.stringValue { lines.append("  note: \(note)") }
        let rows = objects.map { object -> [String] in
            var health = object["health"]?.stringValue ?? "?"
            if health == "none" { health = "-" }
            let reason = object["reason"]?.stringValue ?? object["error"]?.stringValue ?? ""
            return [objectName(object), health, reason]
        }
        if !rows.isEmpty { lines += table(rows).split(separator: "\n").map { "  " + $0 } }
        return lines
    }

    /// `Kind/namespace/name` or `Kind/name`.
    static func objectName(_ object: JSONValue) -> String {
        [object["kind"]?.stringValue, object["namespace"]?.stringValue, object["name"]?.stringValue]
            .compactMap { $0 }.joined(separator: "/")
    }

    /// History lines as a table: time, revision, result, count, changes, drift or error.
    static func historyTable(_ entries: [JSONValue]) -> String {
        let rows = entries.map { entry -> [String] in
            let count = int(entry["count"]) ?? 1
            let drifted = (entry["drifted"]?.arrayValue ?? []).compactMap(\.stringValue)
            var detail = entry["error"]?.stringValue.map(firstLine) ?? ""
            if !drifted.isEmpty { detail = "drift corrected: " + drifted.joined(separator: ", ") }
            return [
                entry["last_time"]?.stringValue ?? "", String((entry["revision"]?.stringValue ?? "").prefix(12)),
                (entry["result"]?.stringValue ?? "?") + (count > 1 ? " ×\(count)" : ""),
                changeText(entry["changes"]), detail,
            ]
        }
        return table([["TIME", "REVISION", "RESULT", "CHANGES", "DETAIL"]] + rows)
    }

    /// `2 created, 1 configured, 4 unchanged`, from a counts object.
    static func changeText(_ counts: JSONValue?) -> String {
        let parts = ["created", "configured", "deleted", "unchanged", "skipped", "kept"].compactMap { key in
            (int(counts?[key]) ?? 0) > 0 ? "\(int(counts?[key])!) \(key)" : nil
        }
        return parts.isEmpty ? "-" : parts.joined(separator: ", ")
    }

    /// `2026-12-02T00:10:00Z (3m ago)`, or `-`.
    static func timeText(_ iso: String?) -> String {
        guard let iso else { return "-" }
        return age(iso).map { "\(iso) (\($0))" } ?? iso
    }

    static func int(_ value: JSONValue?) -> Int? {
        switch value {
        case .int(let number)?: Int(number)
        case .double(let number)?: Int(number)
        default: nil
        }
    }

    /// A service name as one path segment.
    static func escape(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? name
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

    /// The first line of an error; a line that only introduces the next (`render failed:`) gets it appended.
    static func firstLine(_ text: String) -> String {
        let lines = text.split(separator: "\n")
        var line = lines.first.map(String.init) ?? ""
        if line.hasSuffix(":"), lines.count > 1 { line += " " + lines[1].trimmingCharacters(in: .whitespaces) }
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
