import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import WherryExec

/// One request the git HTTP server answered.
public struct GitHTTPRequest: Sendable {
    /// `GET` or `POST`.
    public var method: String
    /// Path, e.g. `/repo.git/info/refs`.
    public var path: String
    /// Whether it carried the expected token (always true when no token is required).
    public var authorized: Bool
    /// Whether the answer carried a pack: the request fetched objects (ls-remote never does).
    public var servedPack: Bool
}

/// Every request a ``GitHTTPServer`` answered, in order.
public final class GitHTTPRequestLog: Sendable {
    private let entries = Mutex<[GitHTTPRequest]>([])

    init() {}

    func append(_ request: GitHTTPRequest) { entries.withLock { $0.append(request) } }

    /// A snapshot of the log.
    public var requests: [GitHTTPRequest] { entries.withLock { $0 } }

    /// How many requests fetched a pack.
    public var fetches: Int { requests.filter(\.servedPack).count }
}

/// Git's smart HTTP protocol for tests: Hummingbird on 127.0.0.1 in front of the real `git http-backend` (CGI).
///
/// When a token is set, every request must carry HTTP Basic credentials whose password is that token, as
/// GitHub expects; others get `401` with a `WWW-Authenticate` challenge.
public enum GitHTTPServer {
    /// Serves the repositories under `projectRoot` while `body` runs; `body` gets `http://127.0.0.1:PORT`.
    public static func withServer<T: Sendable>(
        projectRoot: String, token: String? = nil,
        _ body: @Sendable (_ baseURL: String, _ log: GitHTTPRequestLog) async throws -> T
    ) async throws -> T {
        let log = GitHTTPRequestLog()
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            try await respond(request, projectRoot: projectRoot, token: token, log: log)
        }
        router.on("**", method: .get, use: handler)
        router.on("**", method: .post, use: handler)
        return try await LoopbackServer.run(router.buildResponder(), label: "git HTTP server") { port in
            try await body("http://127.0.0.1:\(port)", log)
        }
    }

    private static func respond(
        _ request: Request, projectRoot: String, token: String?, log: GitHTTPRequestLog
    )
        async throws -> Response
    {
        let path = request.uri.path
        let authorized = token.map { isAuthorized(request, token: $0) } ?? true
        guard authorized else {
            log.append(GitHTTPRequest(method: "\(request.method)", path: path, authorized: false, servedPack: false))
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Basic realm=\"wherry-test\""
            return Response(status: .unauthorized, headers: headers)
        }
        let body = try await request.body.collect(upTo: 64 << 20)
        var env: [String: String?] = [
            "GIT_PROJECT_ROOT": projectRoot,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": "\(request.method)",
            "PATH_INFO": path,
            "QUERY_STRING": request.uri.query ?? "",
            "CONTENT_TYPE": request.headers[.contentType] ?? "",
            "CONTENT_LENGTH": String(body.readableBytes),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": token == nil ? nil : "x-access-token",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        ]
        if let encoding = request.headers[.contentEncoding] { env["HTTP_CONTENT_ENCODING"] = encoding }
        if let name = HTTPField.Name("Git-Protocol"), let version = request.headers[name] {
            env["HTTP_GIT_PROTOCOL"] = version
        }
        let result = try await CommandRunner.run(
            Command(
                "git", ["http-backend"], environment: env, input: Array(body.readableBytesView),
                timeout: .seconds(60)))
        let (status, headers, payload) = parseCGI(result.stdout)
        let servedPack = payload.count >= 4 && containsPack(payload)
        log.append(GitHTTPRequest(method: "\(request.method)", path: path, authorized: true, servedPack: servedPack))
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: payload)))
    }

    private static func isAuthorized(_ request: Request, token: String) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))),
            let credentials = String(data: decoded, encoding: .utf8),
            let colon = credentials.firstIndex(of: ":")
        else { return false }
        return credentials[credentials.index(after: colon)...] == token
    }

    /// Splits CGI output into status, headers and body.
    private static func parseCGI(_ output: [UInt8]) -> (HTTPResponse.Status, HTTPFields, [UInt8]) {
        var headerEnd = output.count
        var bodyStart = output.count
        for index in output.indices where output[index] == 10 {
            if index + 1 < output.count, output[index + 1] == 10 {
                headerEnd = index
                bodyStart = index + 2
                break
            }
            if index + 2 < output.count, output[index + 1] == 13, output[index + 2] == 10 {
                headerEnd = index
                bodyStart = index + 3
                break
            }
        }
        var status = HTTPResponse.Status.ok
        var headers = HTTPFields()
        let head = String(decoding: output[..<headerEnd], as: UTF8.self)
        for line in head.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                status = HTTPResponse.Status(code: Int(value.prefix(3)) ?? 500)
            } else if let field = HTTPField.Name(name) {
                headers[field] = value
            }
        }
        return (status, headers, Array(output[min(bodyStart, output.count)...]))
    }

    private static func containsPack(_ bytes: [UInt8]) -> Bool {
        let signature: [UInt8] = Array("PACK".utf8)
        guard bytes.count >= signature.count else { return false }
        for start in 0...(bytes.count - signature.count) where bytes[start] == 0x50 {
            if Array(bytes[start..<start + 4]) == signature { return true }
        }
        return false
    }
}
