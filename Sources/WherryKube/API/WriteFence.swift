import Synchronization

/// Permission to write to the cluster, valid until an instant on the monotonic clock: a leader opens it on every
/// successful renewal of its lease (until that renewal's start plus the renew deadline) and closes it when it stops
/// leading. ``HTTPKubeAPI`` consults it right before each attempt of a write, and again when the request's body goes
/// on the wire, so a process that wakes from a long pause (a stopped process, a stalled VM) refuses to write before
/// anything else runs, whatever its timers have not noticed yet.
///
/// Because the clock is monotonic and local, wall-clock jumps do not move the deadline; because the deadline counts
/// from the start of the renewal, it ends before any other process can see the lease expire.
public final class WriteFence: Sendable {
    private let validUntil = Mutex<ContinuousClock.Instant?>(nil)

    /// A closed fence: no writes until it is opened.
    public init() {}

    /// Allows writes until `instant`; an open fence is only ever extended, never shortened, by this call.
    public func open(until instant: ContinuousClock.Instant) {
        validUntil.withLock { current in
            if let existing = current, existing > instant { return }
            current = instant
        }
    }

    /// Refuses writes from now on, until the next ``open(until:)``.
    public func close() {
        validUntil.withLock { $0 = nil }
    }

    /// The instant writes stop being allowed; `nil` when the fence is closed.
    public var deadline: ContinuousClock.Instant? { validUntil.withLock { $0 } }

    /// Whether a write may be sent now.
    public var isOpen: Bool {
        guard let deadline else { return false }
        return ContinuousClock.now < deadline
    }

    /// Throws the refusal for `request` unless a write may be sent now.
    public func check(_ request: String) throws(KubeAPIError) {
        guard isOpen else { throw KubeAPIError.fenced(request) }
    }
}

extension KubeAPIError {
    /// The reason of a write this process refused to send because it may no longer lead.
    public static let fencedMessage =
        "not sent: this process's lease may have expired (no renewal within the renew deadline), so another "
        + "replica may lead now"

    /// A write refused by a closed ``WriteFence``: reported as a cancellation (the work stops, nothing failed), as
    /// the loss of the lease cancels the leader's work anyway.
    public static func fenced(_ request: String) -> KubeAPIError {
        KubeAPIError(code: 0, reason: "Cancelled", message: fencedMessage, request: request)
    }

    /// Whether the request was refused by a ``WriteFence`` (and never sent).
    public var isFenced: Bool { isCancelled && message == Self.fencedMessage }
}
