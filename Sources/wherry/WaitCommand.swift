import ArgumentParser
import Foundation
import WherryModel

/// `wherry wait SERVICE [--revision R] [--health]`: for CI pipelines, waits until the running controller applied a
/// revision of a service.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until the running controller applied a revision of a service (for CI pipelines).",
        discussion: """
            Exit 0 once the service's last reconcile succeeded at --revision (a commit id or a prefix of one; \
            default: the head of its branch as the controller last saw it), and with --health once every object \
            of the service is healthy too. Exit 1 when the reconcile of that revision failed, or on --timeout. \
            A suspended service does not reconcile: the wait says so and runs into its timeout.

            Examples:
              wherry wait web --revision "$GITHUB_SHA" --timeout 10m
              wherry wait web --health --server wherry.internal:8080
              wherry wait web --revision 1a2b3c4 --output json
            """)

    @Argument(help: "The service to wait for.")
    var service: String

    @Option(help: "The commit to wait for (a prefix is enough). Default: the branch head the controller saw last.")
    var revision: String?

    @Option(help: "How long to wait: 90s, 5m, 1h (at most 30 days).")
    var timeout: WaitTimeout = WaitTimeout(argument: "5m")!

    @Flag(help: "Also wait until every object of the service is healthy.")
    var health = false

    @Option(help: "Seconds between two looks at the controller's status.")
    var interval: Double = 1

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let revision, revision.count < 4 || !revision.allSatisfy(\.isHexDigit) {
            throw ValidationError("--revision must be a commit id or a prefix of one (at least 4 hex digits)")
        }
        guard interval > 0, interval <= 3600 else {
            throw ValidationError("--interval must be more than 0 seconds and at most 3600 (one hour)")
        }
    }

    func run() async throws {
        let client = try server.client()
        let escaped = service.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? service
        let path = "/v1/gitops/services/\(escaped)"
        let deadline = ContinuousClock.now + timeout.duration
        var said: Set<String> = []
        var last: (target: String?, state: String, unhealthy: String?) = (nil, "?", nil)
        while ContinuousClock.now < deadline {
            // A controller restarting (or changing leader) is waited for like the apply itself, until the deadline.
            guard let status = try await client.getUnlessUnavailable(path) else {
                if said.insert("unavailable").inserted {
                    Terminal.error(
                        "no Wherry controller answers at \(client.base) yet; trying again until the timeout")
                }
                last.state = "controller not answering"
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                continue
            }
            said.remove("unavailable")
            let state = status["state"]?.stringValue ?? "?"
            let target = revision?.lowercased() ?? status["head_revision"]?.stringValue
            last = (target, state, nil)
            if state == "suspended", said.insert("suspended").inserted {
                Terminal.error("service \(service) is suspended: it does not reconcile until resumed")
            }
            if let dependency = status["waiting_for"]?.stringValue, said.insert("waiting " + dependency).inserted {
                Terminal.error("service \(service) waits for service \(dependency) to succeed first")
            }
            if let target, state != "reconciling" {
                let history = try await client.get(path + "/history")["history"]?.arrayValue ?? []
                // Asked for a commit the branch has moved past: done once it was applied (or found up to date).
                let passed =
                    revision == nil
                    ? nil
                    : history.first { line in
                        ["succeeded", "unchanged"].contains(line["result"]?.stringValue ?? "")
                            && Self.matches(line["revision"]?.stringValue, target)
                    }
                if Self.matches(status["reconciled_revision"]?.stringValue, target)
                    || (status["reconciled_revision"] == .null
                        && Self.matches(status["last_applied_revision"]?.stringValue, target)
                        && status["last_result"]?.stringValue == "succeeded")
                    || passed != nil
                {
                    let commit =
                        passed?["revision"]?.stringValue ?? status["reconciled_revision"]?.stringValue
                        ?? status["last_applied_revision"]?.stringValue ?? target
                    guard health else { return report(["result": "succeeded", "revision": .string(commit)]) }
                    let answer = try await client.get(path + "/health")
                    if answer["healthy"] == .bool(true) {
                        return report(["result": "succeeded", "revision": .string(commit), "healthy": true])
                    }
                    last.unhealthy = Self.unhealthy(answer)
                } else if let newest = history.first, newest["result"]?.stringValue == "failed",
                    Self.matches(newest["revision"]?.stringValue, target)
                {
                    report([
                        "result": "failed", "revision": newest["revision"] ?? .null,
                        "error": newest["error"] ?? .null,
                    ])
                    throw ExitStatus.failure.code
                }
            }
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
        }
        let wanted = last.target.map { "revision \($0.prefix(12))" } ?? "the branch head (not polled yet)"
        var message =
            "timed out after \(timeout) waiting for service \(service) to apply \(wanted) (state: \(last.state)"
        if let unhealthy = last.unhealthy { message += "; not healthy: \(unhealthy)" }
        message += ")"
        if output == .json {
            print(
                JSONValue.object([
                    "service": .string(service), "result": "timed_out",
                    "revision": last.target.map(JSONValue.string) ?? .null,
                    "state": .string(last.state), "error": .string(message),
                ]).prettyJSONString())
        }
        Terminal.error(message)
        throw ExitStatus.failure.code
    }

    /// Prints the outcome: a line, or `{service, result, revision, healthy?, error?}`.
    private func report(_ fields: JSONObject) {
        var object = fields
        object["service"] = .string(service)
        if output == .json {
            print(JSONValue.object(object).prettyJSONString())
            return
        }
        let revision = object["revision"]?.stringValue.map { String($0.prefix(12)) } ?? "?"
        if object["result"] == .string("failed") {
            Terminal.error(
                "service \(service) failed at \(revision): \(object["error"]?.stringValue ?? "(no error recorded)")")
        } else {
            print("service \(service) applied \(revision)" + (health ? " and is healthy" : ""))
        }
    }

    /// Whether commit `full` is `wanted` (or starts with it).
    static func matches(_ full: String?, _ wanted: String) -> Bool {
        guard let full, !wanted.isEmpty else { return false }
        return full.lowercased().hasPrefix(wanted.lowercased())
    }

    /// `Deployment/default/web: progressing: 1 of 3 updated replicas` for the first objects not healthy.
    static func unhealthy(_ answer: JSONValue) -> String {
        let objects = (answer["objects"]?.arrayValue ?? []).filter { $0["health"]?.stringValue != "healthy" }
        let names = objects.prefix(3).map { object in
            let name = [object["kind"], object["namespace"], object["name"]].compactMap { $0?.stringValue }
                .joined(separator: "/")
            return name + ": " + (object["reason"]?.stringValue ?? object["health"]?.stringValue ?? "?")
        }
        return names.isEmpty ? (answer["error"]?["message"]?.stringValue ?? "unknown") : names.joined(separator: "; ")
    }
}
