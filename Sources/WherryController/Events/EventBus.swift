import Foundation
import Synchronization
public import WherryModel

/// Fans the controller's events out to every watcher of the event stream without ever holding up the loop.
///
/// Each event gets the next sequence number and is kept in a replay ring, so a client that reconnects with
/// `Last-Event-ID` gets what it missed. Each watcher has a bounded buffer: one that falls behind by more than
/// `clientBuffer` events is dropped (its stream ends; it may reconnect and resume), so publishing is a few array
/// operations under a lock whatever the watchers do.
public final class EventBus: Sendable {
    /// Events kept for `Last-Event-ID` resumes.
    public let replayLimit: Int
    /// Events (and heartbeats) a watcher may have waiting before it is dropped.
    public let clientBuffer: Int
    /// This process's epoch, the first part of every id.
    public let epoch: String
    private let state = Mutex(State())

    private struct State {
        var next: UInt64 = 1
        var ring: [GitOpsEvent] = []
        var watchers: [Int: AsyncStream<EventFrame>.Continuation] = [:]
        var nextWatcher = 0
        var states: [String: String] = [:]
        var dropped = 0
        var closed = false
    }

    public init(replayLimit: Int = 512, clientBuffer: Int = 256, epoch: String? = nil) {
        self.replayLimit = max(1, replayLimit)
        self.clientBuffer = max(1, clientBuffer)
        self.epoch = epoch ?? String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// The sink to hand the loop and the notifier.
    public var sink: ControllerEventSink { { [self] event in publish(event) } }

    /// The id of the newest event (`<epoch>-0` before the first): a page rendered now resumes the stream after it.
    public var lastEventID: String { state.withLock { "\(epoch)-\($0.next - 1)" } }

    /// Watchers connected now.
    public var watcherCount: Int { state.withLock { $0.watchers.count } }

    /// Watchers dropped so far because they fell behind.
    public var droppedWatchers: Int { state.withLock { $0.dropped } }

    /// Publishes what one controller event means for watchers: the event itself, then a `state_changed` when the
    /// service's state moved, and a `drift_corrected` when an apply put objects back.
    public func publish(_ event: ControllerEvent) {
        let time = Date()
        let slow: [AsyncStream<EventFrame>.Continuation] = state.withLock { state in
            var bodies = EventPayload.bodies(of: event)
            if let new = event.state, state.states[event.service] != new {
                // Right after the event that moved it, before what follows from it (a drift correction).
                bodies.insert(
                    EventPayload.stateChanged(event, from: state.states[event.service], to: new),
                    at: min(1, bodies.count))
                state.states[event.service] = new
            } else if event.state == nil, case .reconcileFinished = event {
                state.states[event.service] = nil
            }
            var slow: [AsyncStream<EventFrame>.Continuation] = []
            for (kind, body) in bodies {
                let sequence = state.next
                state.next += 1
                var data = body
                data["type"] = .string(kind.rawValue)
                data["service"] = .string(event.service)
                data["time"] = .string(time.formatted(.iso8601))
                let item = GitOpsEvent(
                    id: "\(epoch)-\(sequence)", sequence: sequence, kind: kind, service: event.service,
                    data: .object(data))
                state.ring.append(item)
                if state.ring.count > replayLimit { state.ring.removeFirst(state.ring.count - replayLimit) }
                // Yielded under the lock, so every watcher sees events in sequence order.
                for (id, watcher) in state.watchers {
                    if case .dropped = watcher.yield(.event(item)) {
                        slow.append(watcher)
                        state.watchers[id] = nil
                        state.dropped += 1
                    }
                }
            }
            return slow
        }
        // Finished outside the lock: finishing runs the stream's termination handler, which takes it again.
        for watcher in slow { watcher.finish() }
    }

    /// A new watcher: the events after `lastEventID` that the ring still holds, then every new event. When the
    /// id is from another process or older than the ring, the first frame is ``EventFrame/reset`` (reload the
    /// state; events were missed).
    public func subscribe(lastEventID: String? = nil) -> EventSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: EventFrame.self, bufferingPolicy: .bufferingOldest(clientBuffer))
        let (id, replay, closed) = state.withLock { state -> (Int, [EventFrame], Bool) in
            let id = state.nextWatcher
            state.nextWatcher += 1
            if !state.closed { state.watchers[id] = continuation }
            return (id, Self.replay(after: lastEventID, epoch: epoch, ring: state.ring, next: state.next), state.closed)
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        if closed { continuation.finish() }
        return EventSubscription(replay: replay, frames: stream, continuation: continuation)
    }

    /// What a resume from `lastEventID` must send before new events.
    static func replay(after lastEventID: String?, epoch: String, ring: [GitOpsEvent], next: UInt64) -> [EventFrame] {
        guard let lastEventID, !lastEventID.isEmpty else { return [] }
        // `0`: everything still held (`wherry events` without --follow).
        if lastEventID == "0" { return ring.map(EventFrame.event) }
        let parts = lastEventID.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0] == epoch, let last = UInt64(parts[1]), last < next else { return [.reset] }
        // The ring holds sequences (next - ring.count)..<next: the client's next one must still be there.
        guard last + 1 >= next - UInt64(ring.count) else { return [.reset] }
        return ring.filter { $0.sequence > last }.map(EventFrame.event)
    }

    /// Ends every watcher's stream and takes no new ones (graceful shutdown: open streams must not hold the HTTP
    /// server's shutdown).
    public func close() {
        let watchers = state.withLock { state in
            state.closed = true
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.finish() }
    }

    private func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }
}

/// What a watcher receives: an event, a heartbeat (keeps proxies from closing an idle stream), or a reset.
public enum EventFrame: Sendable, Hashable {
    case event(GitOpsEvent)
    case heartbeat
    /// Events were missed (a restart, or the resume id is older than the replay ring): reload, then follow.
    case reset
}

/// One watcher's view of the ``EventBus``.
public struct EventSubscription: Sendable {
    /// Frames to send before ``frames``: the resumed events, or a reset.
    public let replay: [EventFrame]
    /// New frames, in order; ends when the watcher is dropped for falling behind.
    public let frames: AsyncStream<EventFrame>
    fileprivate let continuation: AsyncStream<EventFrame>.Continuation

    /// Queues a heartbeat like an event: a watcher that does not read them falls behind and is dropped too.
    public func heartbeat() {
        if case .dropped = continuation.yield(.heartbeat) { continuation.finish() }
    }

    /// Ends the subscription (the client went away).
    public func cancel() { continuation.finish() }
}
