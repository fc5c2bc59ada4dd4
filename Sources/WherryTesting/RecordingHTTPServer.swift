import HTTPTypes
import Hummingbird
import Synchronization

/// A test double of an HTTP endpoint (a notification receiver, a download server): a server on 127.0.0.1 that
/// records every request and answers with the status codes it is told to (then 200), with the body it is given.
public final class RecordingHTTPServer: Sendable {
    /// One request received.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var contentType: String?
        public var body: [UInt8]
    }

    private let received = Mutex<[Received]>([])
    private let answers = Mutex<[Int]>([])
    private let body = Mutex<[UInt8]>([])

    private init() {}

    /// Everything received so far, in order.
    public var requests: [Received] { received.withLock { $0 } }

    /// Answers every request with this body from now on.
    public func serve(_ bytes: [UInt8]) { body.withLock { $0 = bytes } }

    /// Answers the next requests with these codes, in order.
    public func answerNext(_ statuses: [Int]) { answers.withLock { $0 += statuses } }

    /// Runs a server while `body` runs; `body` gets it and its base URL `http://127.0.0.1:PORT`.
    public static func withServer<T: Sendable>(
        _ body: @Sendable (RecordingHTTPServer, String) async throws -> T
    ) async throws -> T {
        let server = RecordingHTTPServer()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let bytes = (try? await request.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            server.received.withLock {
                $0.append(
                    Received(
                        method: request.method.rawValue, path: request.uri.path,
                        contentType: request.headers[.contentType], body: bytes))
            }
            let status = server.answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            let answer = server.body.withLock { $0 }
            return Response(
                status: HTTPResponse.Status(code: status), body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer)))
        }
        return try await LoopbackServer.run(responder, label: "recording HTTP server") { port in
            try await body(server, "http://127.0.0.1:\(port)")
        }
    }
}
