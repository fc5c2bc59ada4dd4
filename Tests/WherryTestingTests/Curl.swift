import Foundation
import WherryExec
import WherryModel
import WherryTesting

/// What `curl` got back: the exit code, and for an HTTP answer its status, headers and JSON body.
struct CurlResult: Sendable {
    /// curl's exit code: 0 when an HTTP answer arrived (whatever its status).
    var exitCode: Int32?
    /// HTTP status code, 0 when there was no answer.
    var status: Int
    /// Response headers, names lower-cased.
    var headers: [String: String]
    /// The response body as text.
    var text: String
    /// curl's standard error.
    var stderr: String

    /// The body parsed as JSON, or `.null`.
    var json: JSONValue { (try? JSONValue.parse(text)) ?? .null }
}

/// Runs `curl` through WherryExec's CommandRunner, as the tests' HTTP client.
enum Curl {
    /// Sends one request; `extra` adds curl options (TLS files).
    static func send(
        _ method: String, _ url: String, body: String? = nil, contentType: String? = nil, extra: [String] = []
    ) async throws -> CurlResult {
        // "Expect:" stops curl from waiting for `100 Continue` on larger bodies.
        var arguments = ["-sS", "--max-time", "20", "-X", method, "-D", "-", "-H", "Expect:"]
        if let contentType { arguments += ["-H", "Content-Type: \(contentType)"] }
        if body != nil { arguments += ["--data-binary", "@-"] }
        arguments += extra + [url]
        let result = try await CommandRunner.run(
            Command("curl", arguments, input: body.map { Array($0.utf8) }, timeout: .seconds(30)))
        var text = result.stdoutText
        var status = 0
        var headers: [String: String] = [:]
        if let split = text.range(of: "\r\n\r\n") {
            let head = text[..<split.lowerBound].split(separator: "\r\n")
            status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                    .trimmingCharacters(in: .whitespaces)
            }
            text = String(text[split.upperBound...])
        }
        return CurlResult(
            exitCode: result.exitCode, status: status, headers: headers, text: text, stderr: result.stderr)
    }

    /// `GET`.
    static func get(_ url: String, extra: [String] = []) async throws -> CurlResult {
        try await send("GET", url, extra: extra)
    }

    /// Server-side apply of `object` to `path` (`PATCH`, `application/apply-patch+yaml`).
    static func apply(
        _ server: FakeAPIServer, _ path: String, _ object: JSONValue, manager: String? = "wherry", force: Bool = false,
        dryRun: Bool = false
    ) async throws -> CurlResult {
        var query: [String] = []
        if let manager { query.append("fieldManager=\(manager)") }
        if force { query.append("force=true") }
        if dryRun { query.append("dryRun=All") }
        let url = server.baseURL + path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        return try await send("PATCH", url, body: object.jsonString(), contentType: "application/apply-patch+yaml")
    }

    /// Creates a namespace by server-side apply.
    @discardableResult
    static func makeNamespace(_ server: FakeAPIServer, _ name: String) async throws -> CurlResult {
        try await apply(
            server, "/api/v1/namespaces/\(name)",
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
    }

    /// A ConfigMap manifest.
    static func configMap(
        _ name: String, namespace: String = "default", data: JSONValue = ["key": "value"], labels: JSONValue? = nil
    ) -> JSONValue {
        var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace)]
        if let labels { metadata["labels"] = labels }
        return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": data]
    }
}

extension JSONValue {
    /// Element access on arrays; `nil` out of range and for non-arrays.
    subscript(index: Int) -> JSONValue? {
        guard let items = arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
