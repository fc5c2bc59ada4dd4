import HTTPTypes
public import Hummingbird
public import WherryController
import WherryModel

/// `GET /v1/gitops/events`: the controller's events as Server-Sent Events. Each event has an `id:` (send it back
/// as `Last-Event-ID` to resume), an `event:` type and one line of JSON `data:`; a comment line every `heartbeat`
/// keeps proxies from closing an idle stream. A client that falls behind is dropped by the ``EventBus`` (its
/// response ends; `EventSource` reconnects and resumes).
public struct EventStream: Sendable {
    public let bus: EventBus
    public let heartbeat: Duration

    public init(bus: EventBus, heartbeat: Duration = .seconds(15)) {
        self.bus = bus
        self.heartbeat = heartbeat
    }

    /// Adds the route.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/gitops/events") { request, _ in
            // A page resumes after the event it was rendered at (`?after=`); a reconnect sends the header.
            // `follow=false`: the events held (resume from `0` for all of them), then the answer ends.
            response(
                lastEventID: request.headers[Self.lastEventID] ?? request.uri.queryParameters.get("after"),
                follow: request.uri.queryParameters.get("follow") != "false")
        }
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    /// The streaming answer for a client that last saw `lastEventID`.
    func response(lastEventID: String?, follow: Bool = true) -> Response {
        let subscription = bus.subscribe(lastEventID: lastEventID)
        let heartbeat = heartbeat
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ],
            body: ResponseBody { writer in
                let ticker = Task {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: heartbeat) } catch { return }
                        subscription.heartbeat()
                    }
                }
                defer {
                    ticker.cancel()
                    subscription.cancel()
                }
                // Reconnect after 2 s when the stream ends (a restart, or this client was dropped).
                try await writer.write(ByteBuffer(string: ": wherry events\nretry: 2000\n\n"))
                for frame in subscription.replay { try await writer.write(ByteBuffer(string: Self.text(frame))) }
                if !follow {
                    try await writer.finish(nil)
                    return
                }
                for await frame in subscription.frames { try await writer.write(ByteBuffer(string: Self.text(frame))) }
                try await writer.finish(nil)
            })
    }

    /// One frame in the `text/event-stream` format.
    static func text(_ frame: EventFrame) -> String {
        switch frame {
        case .event(let event):
            "id: \(event.id)\nevent: \(event.kind.rawValue)\ndata: \(event.data.jsonString())\n\n"
        case .heartbeat:
            ": heartbeat\n\n"
        case .reset:
            "event: reset\ndata: {\"type\":\"reset\"}\n\n"
        }
    }
}
