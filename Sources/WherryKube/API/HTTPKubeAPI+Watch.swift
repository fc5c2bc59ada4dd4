import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import WherryModel

extension HTTPKubeAPI {
    /// How long the server keeps one watch open (`timeoutSeconds`); the watcher then watches again from where it was.
    static let watchSeconds = 300
    /// Longest line (one event) a watch may send: a bound for a misbehaving server, far above any object's size.
    static let watchLineLimit = 16 << 20

    public func listPages(
        _ path: String, pageSize: Int, _ page: ([JSONValue]) -> Void
    ) async throws(KubeAPIError) -> String {
        var token: String?
        var resourceVersion = ""
        repeat {
            var query = [("limit", String(max(1, pageSize)))]
            if let token { query.append(("continue", token)) }
            let body = try await send(.GET, path, query: query).body
            page(body["items"]?.arrayValue ?? [])
            // The first page's version is the snapshot's: later pages are read at it through the continue token.
            if resourceVersion.isEmpty { resourceVersion = body["metadata"]?["resourceVersion"]?.stringValue ?? "" }
            token = body["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return resourceVersion
    }

    public func watch(_ path: String, resourceVersion: String) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self)
        let task = Task {
            do {
                try await self.streamWatch(path, resourceVersion: resourceVersion, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Sends the watch request and yields its events, one JSON document per line, until the server ends it.
    private func streamWatch(
        _ path: String, resourceVersion: String,
        into continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
    ) async throws(KubeAPIError) {
        let query = [
            ("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(Self.watchSeconds)),
        ]
        let label = "GET \(path)?watch=1"
        var request = HTTPClientRequest(url: connection.server + path + Self.encode(query))
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "wherry")
        if let authorization = try authorizationHeader(label: label) {
            request.headers.add(name: "Authorization", value: authorization)
        }
        do {
            try await limiter.acquire()
        } catch {
            throw Self.cancelled(label)
        }
        options.onRequest?("GET", false)
        var line: [UInt8] = []
        do {
            let response = try await watchClient.execute(request, timeout: .seconds(Int64(Self.watchSeconds + 60)))
            guard response.status.code == 200 else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw KubeAPIError.decode(
                    code: Int(response.status.code), body: Array(body.readableBytesView), request: label)
            }
            for try await buffer in response.body {
                for byte in buffer.readableBytesView {
                    guard byte == UInt8(ascii: "\n") else {
                        line.append(byte)
                        guard line.count <= Self.watchLineLimit else {
                            throw KubeAPIError(
                                code: 0, reason: "InvalidResponse",
                                message: "a watch event is longer than \(Self.watchLineLimit) bytes", request: label)
                        }
                        continue
                    }
                    if let event = try Self.event(line, label: label) { continuation.yield(event) }
                    line.removeAll(keepingCapacity: true)
                }
            }
        } catch let error as KubeAPIError {
            throw error
        } catch {
            if Task.isCancelled { throw Self.cancelled(label) }
            throw Self.transportError(error, label: label, server: connection.server)
        }
    }

    /// One line of a watch: `{"type": ..., "object": ...}`; an `ERROR` carries a `Status`, thrown as its error.
    static func event(_ line: [UInt8], label: String) throws(KubeAPIError) -> WatchEvent? {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw KubeAPIError(
                code: 0, reason: "InvalidResponse", message: "the API server sent an invalid watch event: \(error)",
                request: label)
        }
        let type = value["type"]?.stringValue ?? ""
        let object = value["object"] ?? .null
        if type == "ERROR" {
            var code = 500
            if case .int(let number)? = object["code"] { code = Int(number) }
            throw KubeAPIError.decode(code: code, body: Array(object.jsonString().utf8), request: label)
        }
        guard let kind = WatchEvent.Kind(rawValue: type) else {
            throw KubeAPIError(
                code: 0, reason: "InvalidResponse", message: "unknown watch event type '\(type)'", request: label)
        }
        return WatchEvent(kind: kind, object: object)
    }
}
