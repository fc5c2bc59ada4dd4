import Hummingbird
import WherryModel

/// `GET` of a collection with `watch=1`: the changes after a resourceVersion, one JSON event a line, as the real
/// server streams them.
///
/// Like the real server: events start after the `resourceVersion` asked for (objects changed since then, and objects
/// deleted since then, from a bounded history), a version older than the history (see ``compactWatchHistory()``)
/// gets one `ERROR` event with a 410 `Expired` Status, and the watch ends after `timeoutSeconds` (or
/// ``maxWatchDuration``, for tests of a watch the server ends). Changes are looked for every few milliseconds, and
/// the Deployment controller's writes happen then too, as time passes.
extension FakeAPIServer {
    /// The longest a watch stays open before the server ends it, whatever `timeoutSeconds` asks; `nil`: as asked.
    public var maxWatchDuration: Duration? {
        get { state.withLock { $0.maxWatchDuration } }
        set { state.withLock { $0.maxWatchDuration = newValue } }
    }

    /// Forgets the history a watch resumes from (a new revision is compacted at): a watch from any version handed out
    /// so far gets 410 `Expired`; a list answers the new revision, which can be watched.
    public func compactWatchHistory() {
        state.withLock { state in
            state.revision += 1
            state.compactedRevision = state.revision
            state.tombstones = []
        }
    }

    /// Whether a request is a watch.
    static func isWatch(_ request: RecordedRequest) -> Bool {
        request.method == "GET" && ["1", "true"].contains(request.query["watch"] ?? "")
    }

    /// The streaming answer to a watch.
    func watchResponse(_ request: RecordedRequest) -> Response {
        let start: Result<(ResourceTarget, Int, Duration), APIStatusError> = state.withLock { state in
            Result { () throws(APIStatusError) in try state.watchTarget(request, now: .now) }
        }
        let target: ResourceTarget
        let from: Int
        let duration: Duration
        switch start {
        case .success(let value): (target, from, duration) = value
        case .failure(let error): return Self.response(error)
        }
        let body = ResponseBody { [self] writer in
            var seen: [StoredObject.Key: String]? = nil
            let until = ContinuousClock.now + duration
            if from < state.withLock({ $0.compactedRevision }) {
                let expired = APIStatusError(
                    code: 410, reason: "Expired", message: "too old resource version: \(from)")
                let event: JSONValue = ["type": "ERROR", "object": expired.body]
                try? await writer.write(ByteBuffer(string: event.jsonString() + "\n"))
                try await writer.finish(nil)
                return
            }
            do {
                while ContinuousClock.now < until, !Task.isCancelled {
                    let events = state.withLock { state in
                        state.tick(now: .now)
                        return state.watchEvents(target, from: from, seen: &seen)
                    }
                    if !events.isEmpty {
                        let text = events.map { $0.jsonString() + "\n" }.joined()
                        try await writer.write(ByteBuffer(string: text))
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
            } catch {
                // The client went away, or the server is stopping: end the response all the same.
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }
}

extension FakeClusterState {
    /// What a watch request watches, the version it starts after, and how long it may stay open.
    func watchTarget(
        _ request: FakeAPIServer.RecordedRequest, now: ContinuousClock.Instant
    ) throws(APIStatusError) -> (ResourceTarget, Int, Duration) {
        let segments = request.path.split(separator: "/").map(String.init)
        let target: ResourceTarget
        switch segments.first {
        case "api" where segments.count > 2:
            target = try resolve(group: "", version: segments[1], rest: segments[2...])
        case "apis" where segments.count > 3:
            target = try resolve(group: segments[1], version: segments[2], rest: segments[3...])
        default:
            throw .unknownPath
        }
        guard target.name == nil else { throw .methodNotAllowed }
        let from = Int(request.query["resourceVersion"] ?? "") ?? revision
        let seconds = Int(request.query["timeoutSeconds"] ?? "") ?? 1800
        var duration = Duration.seconds(seconds)
        if let maxWatchDuration { duration = min(duration, maxWatchDuration) }
        return (target, from, duration)
    }

    /// The events of `target`'s collection a watch has not sent yet: on its first call those after `from`; then what
    /// changed or went since the last call (`seen` holds each object's resourceVersion as last sent).
    mutating func watchEvents(
        _ target: ResourceTarget, from: Int, seen: inout [StoredObject.Key: String]?
    ) -> [JSONValue] {
        var events: [JSONValue] = []
        let keys = keys(of: target.resource, namespace: target.namespace)
        func rendered(_ key: StoredObject.Key) -> JSONValue {
            var item = objects[key]!.rendered(apiVersion: target.apiVersion)
            item["kind"] = .string(target.resource.kind)
            return item
        }
        func version(_ key: StoredObject.Key) -> String {
            objects[key]?.body.value(at: ["metadata", "resourceVersion"])?.stringValue ?? "0"
        }
        if var known = seen {
            for key in keys where known[key] != version(key) {
                events.append(["type": known[key] == nil ? "ADDED" : "MODIFIED", "object": rendered(key)])
                known[key] = version(key)
            }
            let present = Set(keys)
            for (key, _) in known where !present.contains(key) {
                let gone = tombstones.last { $0.key == key }?.body ?? ["metadata": ["name": .string(key.name)]]
                var object = JSONValue.object(gone)
                object["kind"] = .string(target.resource.kind)
                events.append(["type": "DELETED", "object": object])
                known[key] = nil
            }
            seen = known
        } else {
            var known: [StoredObject.Key: String] = [:]
            for key in keys {
                known[key] = version(key)
                if (Int(version(key)) ?? 0) > from { events.append(["type": "MODIFIED", "object": rendered(key)]) }
            }
            for tombstone in tombstones
            where tombstone.revision > from && keys.contains(tombstone.key) == false
                && tombstone.key.group == target.resource.group && tombstone.key.resource == target.resource.name
                && (target.namespace.map { tombstone.key.namespace == $0 } ?? true)
            {
                var object = JSONValue.object(tombstone.body)
                object["kind"] = .string(target.resource.kind)
                events.append(["type": "DELETED", "object": object])
            }
            seen = known
        }
        return events
    }
}
