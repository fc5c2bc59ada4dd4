import Foundation
import Testing
import WherryModel

@testable import WherryController

@Suite("The event bus: ordered ids, Last-Event-ID resume, bounded watchers")
struct EventBusTests {
    static func applied(_ service: String, drifted: [ObjectRef] = []) -> ControllerEvent {
        var result = SyncResult(
            service: service, commit: "abc1234",
            changes: ChangeSet(entries: [
                ChangeSetEntry(
                    ref: ObjectRef(group: "", kind: "ConfigMap", namespace: "a", name: "x"), action: .created)
            ]))
        result.drifted = drifted
        return .reconcileFinished(service: service, outcome: .applied(result, treeHash: "t"))
    }

    /// The events a subscription has buffered now (its stream is ended first, so this does not wait).
    static func drain(_ subscription: EventSubscription) async -> [EventFrame] {
        subscription.cancel()
        var frames: [EventFrame] = []
        for await frame in subscription.frames { frames.append(frame) }
        return frames
    }

    static func kinds(_ frames: [EventFrame]) -> [String] {
        frames.map { frame in
            switch frame {
            case .event(let event): "\(event.kind.rawValue):\(event.service)"
            case .heartbeat: "heartbeat"
            case .reset: "reset"
            }
        }
    }

    @Test("a reconcile is started, state changed, finished, state changed, drift corrected: in order, ids rising")
    func orderAndDerivedEvents() async throws {
        let bus = EventBus(epoch: "e1")
        let watcher = bus.subscribe()
        bus.publish(.reconcileStarted(service: "shop", trigger: .poll))
        bus.publish(Self.applied("shop", drifted: [ObjectRef(group: "", kind: "ConfigMap", namespace: "a", name: "x")]))
        bus.publish(.reconcileStarted(service: "shop", trigger: .drift))
        bus.publish(.notificationFailed(service: "shop", error: "HTTP 500"))
        let frames = await Self.drain(watcher)
        #expect(
            Self.kinds(frames) == [
                "reconcile_started:shop", "state_changed:shop", "reconcile_finished:shop", "state_changed:shop",
                "drift_corrected:shop", "reconcile_started:shop", "state_changed:shop", "notification_failed:shop",
            ])
        let events = frames.compactMap { if case .event(let event) = $0 { event } else { nil } }
        #expect(events.map(\.id) == (1...8).map { "e1-\($0)" })
        #expect(events[1].data["state"] == "reconciling" && events[1].data["previous"] == .null)
        #expect(events[2].data["result"] == "succeeded" && events[2].data["revision"] == "abc1234")
        #expect(events[2].data["changes"]?["created"] == 1)
        #expect(events[3].data["state"] == "succeeded" && events[3].data["previous"] == "reconciling")
        #expect(events[4].data["objects"] == ["ConfigMap/a/x"])
        #expect(events[7].data["error"] == "HTTP 500")
        #expect(events.allSatisfy { $0.data["time"]?.stringValue?.hasSuffix("Z") == true })
    }

    @Test("Last-Event-ID resumes after that event; another process's id or one older than the ring says reset")
    func resume() async throws {
        let bus = EventBus(replayLimit: 4, epoch: "e1")
        for name in ["a", "b", "c"] { bus.publish(.notificationFailed(service: name, error: "x")) }
        #expect(
            Self.kinds(bus.subscribe(lastEventID: "e1-1").replay) == ["notification_failed:b", "notification_failed:c"])
        #expect(bus.subscribe(lastEventID: "e1-3").replay.isEmpty)
        #expect(bus.subscribe(lastEventID: "other-2").replay == [.reset])
        #expect(bus.subscribe(lastEventID: "e1-99").replay == [.reset])
        for name in ["d", "e", "f"] { bus.publish(.notificationFailed(service: name, error: "x")) }
        // The ring holds 3...6: after 2 everything is still there, after 1 event 2 is gone.
        #expect(Self.kinds(bus.subscribe(lastEventID: "e1-2").replay).count == 4)
        #expect(bus.subscribe(lastEventID: "e1-1").replay == [.reset])
        #expect(bus.subscribe().replay.isEmpty)
    }

    @Test("a watcher that does not read is dropped once its buffer is full; the others and the publisher go on")
    func slowWatcherIsDropped() async throws {
        let bus = EventBus(clientBuffer: 8, epoch: "e1")
        let slow = bus.subscribe()
        let reader = bus.subscribe()
        var iterator = reader.frames.makeAsyncIterator()
        for index in 0..<8 { bus.publish(.notificationFailed(service: "s\(index)", error: "x")) }
        for _ in 0..<8 { _ = await iterator.next() }
        #expect(bus.droppedWatchers == 0 && bus.watcherCount == 2)
        // The ninth event finds the slow watcher's buffer full: it is dropped, the reader gets the event.
        bus.publish(.notificationFailed(service: "s8", error: "x"))
        try #require(bus.droppedWatchers == 1 && bus.watcherCount == 1)
        let next = await iterator.next()
        #expect(next.map { Self.kinds([$0]) } == ["notification_failed:s8"])
        var slowFrames: [EventFrame] = []
        for await frame in slow.frames { slowFrames.append(frame) }
        // It got what its buffer held, then its stream ended.
        #expect(Self.kinds(slowFrames) == (0..<8).map { "notification_failed:s\($0)" })
        // Publishing goes on without it.
        for index in 9..<1000 { bus.publish(.notificationFailed(service: "s\(index)", error: "x")) }
        #expect(bus.watcherCount == 0 && bus.droppedWatchers == 2)
    }

    @Test("close ends every stream and refuses new watchers (graceful shutdown)")
    func close() async throws {
        let bus = EventBus(epoch: "e1")
        let watcher = bus.subscribe()
        bus.close()
        var frames = 0
        for await _ in watcher.frames { frames += 1 }
        #expect(frames == 0)
        for await _ in bus.subscribe().frames { Issue.record("a closed bus must not stream") }
        #expect(bus.watcherCount == 0)
    }
}
