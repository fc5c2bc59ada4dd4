import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel

/// `--server` and `--token-file`: where a running controller (`wherry run`) answers, and the API token that the
/// calls which change something (sync, suspend, resume) present.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Address of the controller's API: http(s)://host:port or host:port.",
            discussion: "Default: $WHERRY_SERVER, else http://127.0.0.1:8080."))
    var server: String?

    @Option(
        help: ArgumentHelp(
            "File holding the controller's API token (the value of its api_token_env).",
            discussion: "Default: $WHERRY_API_TOKEN."))
    var tokenFile: String?

    /// The base URL after defaults: a scheme is added to `host:port`, a trailing `/` dropped.
    var baseURL: String {
        let environment = ProcessInfo.processInfo.environment["WHERRY_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        return Self.normalize(server ?? environment ?? "http://127.0.0.1:8080")
    }

    /// `127.0.0.1:8080` → `http://127.0.0.1:8080`; `https://h/` → `https://h`.
    static func normalize(_ address: String) -> String {
        var base = address.trimmingCharacters(in: .whitespaces)
        if !base.contains("://") { base = "http://" + base }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The API token from `--token-file` or `$WHERRY_API_TOKEN`, or `nil` when neither gives one.
    func token() throws -> String? {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                Terminal.error("--token-file \(tokenFile): cannot read the file")
                throw ExitStatus.usage.code
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                Terminal.error("--token-file \(tokenFile): the file is empty")
                throw ExitStatus.usage.code
            }
            return token
        }
        return ProcessInfo.processInfo.environment["WHERRY_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A client for the controller at ``baseURL`` with the token, if any.
    func client() throws -> ControllerClient {
        ControllerClient(base: baseURL, token: try token())
    }
}

/// Calls to a running controller's HTTP API; every failure is one clear line on stderr and exit 1.
struct ControllerClient: Sendable {
    /// `http://host:port`, without a trailing `/`.
    let base: String
    /// The bearer token for calls that change something.
    let token: String?

    /// GETs one JSON document.
    func get(_ path: String) async throws -> JSONValue {
        try await send(HTTPClientRequest(url: base + path))
    }

    /// GETs one JSON document; `nil` (nothing printed) when the controller did not answer or answered 5xx, which
    /// may pass (a restart, a new leader). Any other refusal is printed and thrown as by ``get(_:)``.
    func getUnlessUnavailable(_ path: String) async throws -> JSONValue? {
        do {
            return try await send(HTTPClientRequest(url: base + path), quietWhenUnavailable: true)
        } catch is Unavailable {
            return nil
        }
    }

    /// The controller did not answer, or answered with a 5xx.
    struct Unavailable: Error {}

    /// POSTs (with the bearer token) and returns the JSON answer; without a token this is a usage error that says
    /// where a token comes from.
    func post(_ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        guard let token else {
            Terminal.error(
                "this command changes the controller and needs its API token: set WHERRY_API_TOKEN or pass "
                    + "--token-file (the controller reads it from the variable its config's api_token_env names)")
            throw ExitStatus.usage.code
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString()))
        }
        return try await send(request)
    }

    private func send(_ request: HTTPClientRequest, quietWhenUnavailable: Bool = false) async throws -> JSONValue {
        var configuration = HTTPClient.Configuration()
        // A controller that is not there is an answer at once, not something to wait out.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        let response: HTTPClientResponse
        let value: JSONValue
        do {
            response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            value = (try? JSONValue.parse(Array(body.readableBytesView))) ?? .null
        } catch {
            if quietWhenUnavailable { throw Unavailable() }
            Terminal.error(
                "no Wherry controller answers at \(base) (is `wherry run` running there? pass --server or set "
                    + "WHERRY_SERVER)")
            throw ExitStatus.failure.code
        }
        guard (200..<300).contains(response.status.code) else {
            if quietWhenUnavailable, response.status.code >= 500 { throw Unavailable() }
            let message = value["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)"
            switch response.status.code {
            case 401:
                Terminal.error(
                    "\(base) refused the API token (HTTP 401): check WHERRY_API_TOKEN or --token-file against the "
                        + "variable the controller's api_token_env names")
            default:
                Terminal.error("\(base): \(message)")
            }
            throw ExitStatus.failure.code
        }
        return value
    }
}

/// `--output text|json` of commands that report.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
