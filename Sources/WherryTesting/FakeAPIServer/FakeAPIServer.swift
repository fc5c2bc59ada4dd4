import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import ServiceLifecycle
import Synchronization
import WherryModel

/// A test double of the Kubernetes API server for tests of Wherry's Kubernetes client: not a real API server.
///
/// It serves, on 127.0.0.1 only, the REST subset a server-side-apply GitOps client uses, answering as the real
/// server does: discovery (`/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`), `GET` of one object,
/// `GET` of a collection (label and field selectors, `limit`/`continue`), server-side apply (`PATCH` with
/// `application/apply-patch+yaml`, a faithful simplification with field managers, conflicts, `force` and
/// `dryRun=All`) and `DELETE`. Errors carry real `Status` bodies. CustomResourceDefinitions register their
/// resources once established. Watches are served (see `FakeAPIServer+Watch`). Other patch types are refused.
///
/// Like the real server, list items of built-in resources carry no `apiVersion` and `kind`.
///
/// What a real API server (Kubernetes 1.36) does that this double was taught after Wherry first met one:
/// - Controllers write objects Wherry applied: a Deployment gets the `deployment.kubernetes.io/revision` annotation
///   and a status from `kube-controller-manager` (through the `status` subresource, with its own `managedFields`
///   entry and a new resourceVersion) moments after each spec change (``controllerDelay``).
/// - A value of the wrong type (`replicas: "three"`, a number in a ConfigMap's `data`, a custom resource field
///   against its CRD's schema) and an undeclared field of a structural custom resource fail server-side apply with
///   HTTP 500, no `reason`, and `failed to create typed patch object (...): .path: problem` — not 422.
/// - Defaults fill what a client leaves out (Service type, port protocol and target port, a cluster IP; Deployment
///   replicas, strategy and container defaults), owned by no field manager.
/// - A dry-run apply that would create answers 201 without a resourceVersion; one that changes nothing answers
///   the live object unchanged.
/// - Objects in a Namespace that does not exist are refused with 404 `namespaces "x" not found`
///   (`details.kind: namespaces`); a lingering deletion (``deletionDelay``) refuses new content with 403.
///
/// Tests see every request (``requests``, with its headers), can slow answers (``responseDelay``) or hold chosen
/// ones (``delayResponses(by:count:when:)``, ``releaseDelays()``), inject failures (``failNext``),
/// and read or change the store directly (``object(group:resource:namespace:name:)``, ``put(_:manager:)``,
/// ``setStatus(_:group:resource:namespace:name:)``).
public final class FakeAPIServer: Sendable {
    /// The cluster: objects, counter, served resources.
    let state = Mutex(FakeClusterState())
    /// The traffic: recorded requests, failure rules, in-flight counters.
    let log = Mutex(RequestLog())
    /// The base URL, known once the server listens.
    private let address = Mutex("")

    private init() {}

    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` when serving TLS.
    public var baseURL: String { address.withLock { $0 } }

    /// How long a new CustomResourceDefinition waits before it is established (and its resources are served);
    /// its `Established` condition is absent meanwhile. Default zero: established at once.
    public var crdEstablishDelay: Duration {
        get { state.withLock { $0.crdEstablishDelay } }
        set { state.withLock { $0.crdEstablishDelay = newValue } }
    }

    /// How long after a Deployment is created or its spec changes the fake Deployment controller writes its status
    /// and `deployment.kubernetes.io/revision` annotation (with a new resourceVersion). Default zero: at the next
    /// request, as a real controller does within milliseconds.
    public var controllerDelay: Duration {
        get { state.withLock { $0.controllerDelay } }
        set { state.withLock { $0.controllerDelay = newValue } }
    }

    /// How long a deleted object lingers with `metadata.deletionTimestamp` before it is gone. Default zero.
    public var deletionDelay: Duration {
        get { state.withLock { $0.deletionDelay } }
        set { state.withLock { $0.deletionDelay = newValue } }
    }

    /// The last resourceVersion handed out (the store's counter).
    public var resourceVersion: String { state.withLock { String($0.revision) } }

    /// Runs a fake API server on 127.0.0.1 (a free port) while `body` runs; with `tls`, it serves HTTPS and, when
    /// the TLS settings carry a client CA, requires client certificates signed by it.
    public static func withServer<T: Sendable>(
        tls: FakeAPIServer.TLS? = nil, _ body: @Sendable (FakeAPIServer) async throws -> T
    ) async throws -> T {
        let server = FakeAPIServer()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await server.respond(to: request) }
        let tlsConfiguration = try tls?.configuration()
        return try await LoopbackServer.run(responder, tls: tlsConfiguration, label: "fake API server") { port in
            server.address.withLock { $0 = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)" }
            return try await body(server)
        }
    }

    /// Answers one HTTP request: records it, counts it in flight, waits ``responseDelay``, then fails it (see
    /// ``failNext(_:status:retryAfter:when:)``) or lets the cluster state answer.
    private func respond(to request: Request) async -> Response {
        let bytes: [UInt8]
        do {
            bytes = Array(try await request.body.collect(upTo: 64 << 20).readableBytesView)
        } catch {
            return Self.response(APIStatusError(code: 413, reason: "RequestEntityTooLarge", message: "\(error)"))
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path, query: Self.queryItems(request.uri.query),
            contentType: request.headers[.contentType], body: bytes, timestamp: Date(), headers: headers)
        let (rules, delayRules, delay) = log.withLock { $0.begin(recorded) }
        defer { log.withLock { $0.end() } }
        // Predicates run outside the lock: a test's closure may read the server.
        let matching = rules.filter { $0.matches(recorded) }.map(\.id)
        let matchingDelays = delayRules.filter { $0.matches(recorded) }.map(\.id)
        let (failure, held) = log.withLock { ($0.consume(matching), $0.consumeDelay(matchingDelays)) }
        if let held {
            await hold(held, atLeast: delay)
        } else if delay > .zero {
            try? await Task.sleep(for: delay)
        }
        if let failure { return Self.response(failure) }
        if Self.isWatch(recorded) { return watchResponse(recorded) }
        if ["/healthz", "/readyz", "/livez"].contains(recorded.path) {
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        }
        let (code, body) = state.withLock { $0.handle(recorded, now: .now) }
        return Self.response(code: code, body: body, headers: [:])
    }

    /// Waits out a delay rule's hold (and at least `minimum`), ending early when the rule is released.
    private func hold(_ held: (id: Int, duration: Duration), atLeast minimum: Duration) async {
        let until = ContinuousClock.now + max(held.duration, minimum)
        while ContinuousClock.now < until, !Task.isCancelled {
            guard log.withLock({ $0.delayRules.contains { $0.id == held.id } }) else { return }
            // Coarse steps: a hundred held requests must not keep a busy machine busier.
            try? await Task.sleep(for: min(.milliseconds(100), until - ContinuousClock.now))
        }
    }

    /// A failure as an HTTP answer with its `Status` body.
    static func response(_ error: APIStatusError) -> Response {
        response(code: error.code, body: error.body, headers: error.headers)
    }

    /// A JSON answer with the headers the API server sends.
    private static func response(code: Int, body: JSONValue, headers extra: [String: String]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-cache, private"]
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        // A bare string is a plain-text answer (the aggregator's `service unavailable`).
        if case .string(let text) = body {
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(
                status: HTTPResponse.Status(code: code), headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        return Response(
            status: HTTPResponse.Status(code: code), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonString())))
    }

    /// Query items, decoded (`+` is a space); a repeated name keeps its last value.
    static func queryItems(_ query: String?) -> [String: String] {
        var items: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            items[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return items
    }
}
