import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
public import WherryModel

/// ``KubeAPI`` over HTTP with AsyncHTTPClient: pooled connections, TLS from the kubeconfig, client-side rate
/// limiting, and retries with backoff on throttling, server errors and lost connections only.
///
/// A TLS or connection failure is reported at once as that failure: the connection pool does not keep retrying
/// a connection that cannot be made until the request deadline.
///
/// Writes can be fenced (``fenceWrites(with:)``): a leader's client then refuses every write (that is not a dry
/// run) once its lease may have expired, checked right before each attempt and again as the body is sent, after
/// any wait in the rate limiter, a retry's sleep or the connection pool's queue.
public final class HTTPKubeAPI: KubeAPI {
    /// The connection settings in use.
    public let connection: KubeConnection
    /// Client behaviour.
    public let options: KubeClientOptions
    private let client: HTTPClient
    /// Watches hold their connection for minutes: they get a pool of their own, so they never queue a request.
    let watchClient: HTTPClient
    let limiter: RateLimiter
    private let logger: Logger
    private let fence = Mutex<WriteFence?>(nil)
    /// Whether a request was sent yet (the first one is watched for ``KubeClientOptions/onSlowFirstContact``).
    private let contacted = Mutex(false)

    /// Builds the client; fails when the TLS material cannot be read.
    public init(
        connection: KubeConnection, options: KubeClientOptions = KubeClientOptions(), logger: Logger
    )
        throws(KubeAPIError)
    {
        self.connection = connection
        self.options = options
        self.logger = logger
        limiter = RateLimiter(qps: options.qps, burst: options.burst)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try Self.tlsConfiguration(connection),
            timeout: .init(
                connect: .nanoseconds(options.connectTimeout.inNanoseconds),
                read: .nanoseconds(options.requestTimeout.inNanoseconds)),
            connectionPool: .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.maxConnections),
            decompression: .enabled(limit: .ratio(50)))
        // Fail fast: a connection that cannot be made (TLS, refused) is an answer, not something to wait out.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var watchConfiguration = configuration
        // A watch is silent while nothing changes: the server ends it at its `timeoutSeconds`, not the read timeout.
        watchConfiguration.timeout.read = .seconds(Int64(Self.watchSeconds + 60))
        watchConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
        watchClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: watchConfiguration)
    }

    public var server: String { connection.server }

    /// Sends writes only while `fence` is open (`nil`: always); reads and dry runs are never fenced.
    public func fenceWrites(with fence: WriteFence?) {
        self.fence.withLock { $0 = fence }
    }

    /// Closes the connections.
    public func shutdown() async {
        try? await client.shutdown()
        try? await watchClient.shutdown()
    }

    public func get(_ path: String) async throws(KubeAPIError) -> JSONValue {
        try await send(.GET, path).body
    }

    public func list(_ path: String, labelSelector: String?) async throws(KubeAPIError) -> [JSONValue] {
        var items: [JSONValue] = []
        var token: String?
        repeat {
            var query = [("limit", "500")]
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let token { query.append(("continue", token)) }
            let page = try await send(.GET, path, query: query).body
            items += page["items"]?.arrayValue ?? []
            token = page["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return items
    }

    public func apply(
        _ path: String, object: JSONValue, options: ApplyOptions
    ) async throws(KubeAPIError)
        -> ApplyResponse
    {
        var query = [("fieldManager", options.fieldManager), ("force", options.force ? "true" : "false")]
        if options.dryRun { query.append(("dryRun", "All")) }
        // JSON is YAML, so the apply content type takes the object as JSON.
        let answer = try await send(
            .PATCH, path, query: query, contentType: "application/apply-patch+yaml",
            body: Array(object.jsonString().utf8))
        return ApplyResponse(object: answer.body, created: answer.status == 201)
    }

    public func create(
        _ collectionPath: String, object: JSONValue, fieldManager: String
    ) async throws(KubeAPIError) -> JSONValue {
        try await send(
            .POST, collectionPath, query: [("fieldManager", fieldManager)], contentType: "application/json",
            body: Array(object.jsonString().utf8)
        ).body
    }

    public func update(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue
    {
        try await send(
            .PUT, path, query: [("fieldManager", fieldManager)], contentType: "application/json",
            body: Array(object.jsonString().utf8)
        ).body
    }

    public func delete(_ path: String, options: DeleteOptions) async throws(KubeAPIError) {
        var body: JSONObject = ["kind": "DeleteOptions", "apiVersion": "v1"]
        body["propagationPolicy"] = .string(options.propagation.rawValue)
        if let uid = options.preconditionUID { body["preconditions"] = ["uid": .string(uid)] }
        var query: [(String, String)] = []
        if options.dryRun {
            query.append(("dryRun", "All"))
            body["dryRun"] = ["All"]
        }
        _ = try await send(
            .DELETE, path, query: query, contentType: "application/json",
            body: Array(JSONValue.object(body).jsonString().utf8))
    }

    // MARK: - Requests

    /// Sends one request with throttling and retries; decodes the JSON answer.
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], contentType: String? = nil,
        body: [UInt8]? = nil
    ) async throws(KubeAPIError) -> (status: Int, body: JSONValue) {
        let url = connection.server + path + Self.encode(query)
        let label = "\(method.rawValue) \(path)"
        let writes = method != .GET && method != .HEAD && !query.contains { $0.0 == "dryRun" }
        let fence = writes ? self.fence.withLock { $0 } : nil
        var attempt = 0
        while true {
            do {
                try await limiter.acquire()
            } catch {
                throw Self.cancelled(label)
            }
            options.onRequest?(method.rawValue, !writes && method != .GET && method != .HEAD)
            do {
                let (status, bytes) = try await once(
                    method, url: url, label: label, contentType: contentType, body: body, fence: fence)
                if bytes.isEmpty { return (status, .null) }
                do {
                    return (status, try JSONValue.parse(bytes))
                } catch {
                    throw KubeAPIError(
                        code: 0, reason: "InvalidResponse", message: "the API server sent invalid JSON: \(error)",
                        request: label)
                }
            } catch let error as KubeAPIError {
                guard error.isRetryable, attempt < options.maxRetries else { throw error }
                attempt += 1
                let delay = retryDelay(attempt: attempt, retryAfter: error.retryAfter)
                logger.debug(
                    "Retrying Kubernetes request",
                    metadata: [
                        "k8s.request": "\(label)", "k8s.code": "\(error.code)", "wherry.attempt": "\(attempt)",
                        "wherry.delay_ms": "\(delay.inMilliseconds)",
                    ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw Self.cancelled(label)
                }
            } catch {
                throw KubeAPIError(code: 0, reason: "InternalError", message: "\(error)", request: label)
            }
        }
    }

    /// The error for a request abandoned because its task was cancelled.
    static func cancelled(_ label: String) -> KubeAPIError {
        KubeAPIError(code: 0, reason: "Cancelled", message: "the request was cancelled", request: label)
    }

    /// One attempt. A fenced write is checked last thing before it is handed to the connection pool, and its body
    /// is checked again when the pool sends it: a request that waited for a connection past the fence's deadline is
    /// cut off after its head, and the server, missing the body, does nothing.
    private func once(
        _ method: HTTPMethod, url: String, label: String, contentType: String?, body: [UInt8]?, fence: WriteFence?
    )
        async throws -> (Int, [UInt8])
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "wherry")
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let authorization = try authorizationHeader(label: label) {
            request.headers.add(name: "Authorization", value: authorization)
        }
        if let body {
            let buffer = ByteBuffer(bytes: body)
            request.body =
                if let fence {
                    .stream(FencedBody(buffer: buffer, fence: fence, request: label), length: .known(body.count))
                } else {
                    .bytes(buffer)
                }
        }
        if Task.isCancelled { throw Self.cancelled(label) }
        try fence?.check(label)
        let watchdog = firstContactWatchdog()
        defer {
            if let watchdog {
                watchdog.task.cancel()
                // Said to be waiting (or about to be): say it ended.
                if watchdog.told.flag.withLock({ told in
                    defer { told = true }
                    return told
                }) {
                    options.onSlowFirstContact?(false)
                }
            }
        }
        let response: HTTPClientResponse
        let collected: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .nanoseconds(options.requestTimeout.inNanoseconds))
            collected = try await response.body.collect(upTo: 256 << 20)
        } catch let error as KubeAPIError where error.isFenced {
            throw error
        } catch {
            throw Self.transportError(
                error, label: label, server: connection.server, connectTimeout: options.connectTimeout)
        }
        let bytes = Array(collected.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            var error = KubeAPIError.decode(code: Int(response.status.code), body: bytes, request: label)
            error.retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
            throw error
        }
        return (Int(response.status.code), bytes)
    }

    /// For the client's first request only: a task that tells ``KubeClientOptions/onSlowFirstContact`` when the
    /// request is still unanswered after ``KubeClientOptions/slowFirstContactAfter``.
    private func firstContactWatchdog() -> (task: Task<Void, Never>, told: SlowContactFlag)? {
        guard let notice = options.onSlowFirstContact else { return nil }
        let first = contacted.withLock { sent in
            defer { sent = true }
            return !sent
        }
        guard first else { return nil }
        let delay = options.slowFirstContactAfter
        let told = SlowContactFlag()
        let task = Task {
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            // Only when the request has not ended meanwhile (it sets `told` as it ends).
            let tell = told.flag.withLock { told in
                defer { told = true }
                return !told
            }
            if tell { notice(true) }
        }
        return (task, told)
    }

    func authorizationHeader(label: String) throws(KubeAPIError) -> String? {
        switch connection.credentials {
        case .none:
            return nil
        case .bearer(let token):
            return "Bearer \(token)"
        case .bearerFile(let path):
            // Re-read on every request: projected service-account tokens rotate under us.
            guard let token = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeAPIError(
                    code: 0, reason: "Unauthorized", message: "token file \(path) cannot be read", request: label)
            }
            return "Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .basic(let username, let password):
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        }
    }

    private func retryDelay(attempt: Int, retryAfter: Int?) -> Duration {
        if let retryAfter, retryAfter > 0 { return .seconds(min(retryAfter, 30)) }
        // Half fixed, half random: retries of many requests spread out, none comes sooner than half the delay.
        let delay = Backoff(initial: options.retryBaseDelay, maximum: .seconds(5)).delay(attempt: attempt)
        return delay / 2 + delay / 2 * Double.random(in: 0...1)
    }

    static func encode(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let pairs = query.map { key, value in
            (key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key) + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }
        return "?" + pairs.joined(separator: "&")
    }
}

/// A request body that checks a ``WriteFence`` at the moment the connection asks for it, that is once the request
/// has a connection and its head is sent.
private struct FencedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let buffer: ByteBuffer
    let fence: WriteFence
    let request: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var pending: ByteBuffer?
        let fence: WriteFence
        let request: String

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = pending else { return nil }
            pending = nil
            try fence.check(request)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pending: buffer, fence: fence, request: request)
    }
}

/// Whether a slow first contact was told (or its request ended first): shared by the watchdog and the request.
final class SlowContactFlag: Sendable {
    let flag = Mutex(false)
}
