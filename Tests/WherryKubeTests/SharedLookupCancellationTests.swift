import Synchronization
import Testing
import WherryKube
import WherryModel

/// A ``KubeAPI`` whose LISTs and discovery reads wait at a gate until the test opens it, and say whether their task
/// was cancelled while they waited.
final class GatedKubeAPI: KubeAPI {
    private struct State {
        var open = false
        var calls = 0
        var cancelled = 0
        var waiting: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// Calls cancelled before they suspended.
        var cancelledEarly: Set<Int> = []
    }

    private let state = Mutex(State())
    /// Yields once each time a gated call starts waiting.
    let started: AsyncStream<Void>
    private let startedContinuation: AsyncStream<Void>.Continuation

    init() {
        (started, startedContinuation) = AsyncStream.makeStream()
    }

    var server: String { "https://gated.invalid" }
    /// Gated calls made so far.
    var calls: Int { state.withLock { $0.calls } }
    /// Gated calls whose task was cancelled (counted when the cancellation reaches them).
    var cancelled: Int { state.withLock { $0.cancelled } }

    /// Lets every waiting call and every later one through.
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume(returning: false) }
    }

    /// Waits at the gate; throws `Cancelled` as HTTPKubeAPI does when the task is cancelled meanwhile.
    private func gate(_ label: String) async throws(KubeAPIError) {
        let id: Int? = state.withLock { state in
            state.calls += 1
            return state.open ? nil : state.calls
        }
        guard let id else { return }
        let wasCancelled = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = state.withLock { state in
                    if state.cancelledEarly.remove(id) != nil { return true }
                    if state.open { return false }
                    state.waiting[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) } else { startedContinuation.yield() }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Bool, Never>? = state.withLock { state in
                state.cancelled += 1
                guard let continuation = state.waiting.removeValue(forKey: id) else {
                    state.cancelledEarly.insert(id)
                    return nil
                }
                return continuation
            }
            continuation?.resume(returning: true)
        }
        if wasCancelled {
            throw KubeAPIError(code: 0, reason: "Cancelled", message: "the request was cancelled", request: label)
        }
    }

    func get(_ path: String) async throws(KubeAPIError) -> JSONValue {
        switch path {
        case "/api":
            try await gate("GET /api")
            return ["versions": ["v1"]]
        case "/apis":
            return ["groups": []]
        case "/api/v1":
            return ["resources": [["name": "configmaps", "kind": "ConfigMap", "namespaced": true, "verbs": ["list"]]]]
        default:
            throw KubeAPIError(code: 404, reason: "NotFound", message: "not found", request: "GET \(path)")
        }
    }

    func list(_ path: String, labelSelector: String?) async throws(KubeAPIError) -> [JSONValue] {
        try await gate("LIST \(path)")
        return [["metadata": ["name": "a"]]]
    }

    func apply(_ path: String, object: JSONValue, options: ApplyOptions) async throws(KubeAPIError) -> ApplyResponse {
        throw KubeAPIError(code: 405, reason: "MethodNotAllowed", message: "not here", request: "PATCH \(path)")
    }

    func delete(_ path: String, options: DeleteOptions) async throws(KubeAPIError) {
        throw KubeAPIError(code: 405, reason: "MethodNotAllowed", message: "not here", request: "DELETE \(path)")
    }

    func create(
        _ collectionPath: String, object: JSONValue, fieldManager: String
    ) async throws(KubeAPIError)
        -> JSONValue
    {
        throw KubeAPIError(code: 405, reason: "MethodNotAllowed", message: "not here", request: "POST")
    }

    func update(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue {
        throw KubeAPIError(code: 405, reason: "MethodNotAllowed", message: "not here", request: "PUT \(path)")
    }
}

/// Shared LISTs and discovery reads run in the task of a caller, so cancelling the callers cancels the request;
/// callers still waiting for a cancelled request send it again. (Hangs count as failures: a lookup that outlived
/// cancellation would wait at the gate for ever.)
@Suite("Shared lookups end with their callers", .timeLimit(.minutes(1)))
struct SharedLookupCancellationTests {
    static let collection = "/api/v1/namespaces/a/configmaps"

    @Test("cancelling the only reader cancels its LIST, which is not kept; the next reader lists again")
    func cancelledListIsNotKept() async throws {
        let api = GatedKubeAPI()
        let cache = LiveObjectCache(api: api, selector: "a=b")
        var started = api.started.makeAsyncIterator()
        let reader = Task { await cache.objects(in: Self.collection) }
        await started.next()
        reader.cancel()
        #expect(api.cancelled == 1)
        api.open()
        #expect(await reader.value.isEmpty)
        #expect(await cache.objects(in: Self.collection).keys.sorted() == ["a"])
        #expect(await cache.listCount == 2)
    }

    @Test("a cancelled reader stops waiting for another reader's LIST at once, and that LIST goes on")
    func cancelledWaiter() async throws {
        let api = GatedKubeAPI()
        let cache = LiveObjectCache(api: api, selector: "a=b")
        var started = api.started.makeAsyncIterator()
        let first = Task { await cache.objects(in: Self.collection) }
        await started.next()
        let second = Task { await cache.objects(in: Self.collection) }
        second.cancel()
        #expect(await second.value.isEmpty)
        #expect(api.cancelled == 0)
        api.open()
        #expect(await first.value.keys.sorted() == ["a"])
        #expect(await cache.listCount == 1)
    }

    @Test("cancelling the lookup that reads discovery cancels the read; a lookup waiting for it reads again")
    func cancelledDiscovery() async throws {
        let api = GatedKubeAPI()
        let mapper = RESTMapper(api: api)
        let kind = GroupVersionKind(apiVersion: "v1", kind: "ConfigMap")
        var started = api.started.makeAsyncIterator()
        let first = Task { () async throws(KubeAPIError) -> ResourceMapping in try await mapper.mapping(for: kind) }
        await started.next()
        let second = Task { () async throws(KubeAPIError) -> ResourceMapping in try await mapper.mapping(for: kind) }
        first.cancel()
        #expect(api.cancelled == 1)
        api.open()
        let error = await #expect(throws: KubeAPIError.self) { try await first.value }
        #expect(error?.isCancelled == true)
        #expect(try await second.value.resource == "configmaps")
        #expect(await mapper.discoveryCount == 2)
    }
}
