public import WherryModel

/// Something the controller did that watchers of `GET /v1/gitops/events` hear of: the loop reports these facts
/// through a ``ControllerEventSink``, and ``EventBus`` turns them into numbered ``GitOpsEvent``s.
public enum ControllerEvent: Sendable {
    /// A reconcile of the service began (its dependencies are ready).
    case reconcileStarted(service: String, trigger: ReconcileTrigger)
    /// A reconcile ended, with its outcome (drift corrections are in an applied outcome).
    case reconcileFinished(service: String, outcome: ReconcileOutcome)
    /// The service waits for a dependency that has not succeeded yet.
    case waiting(service: String, dependency: String)
    /// A deploy notification for the service could not be delivered (the problem never holds the URL).
    case notificationFailed(service: String, error: String)
    /// The service was suspended or resumed at runtime (`wherry suspend` / `wherry resume`).
    case suspension(service: String, suspended: Bool)
}

/// Where the loop and the notifier report ``ControllerEvent``s; it must return at once (never block the loop).
public typealias ControllerEventSink = @Sendable (ControllerEvent) -> Void

/// One event of the stream: a sequence number (unique in this process), its type, the service and a JSON body.
public struct GitOpsEvent: Sendable, Hashable {
    /// `reconcile_started`, `reconcile_finished`, `state_changed`, `drift_corrected`, `notification_failed`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case reconcileStarted = "reconcile_started"
        case reconcileFinished = "reconcile_finished"
        case stateChanged = "state_changed"
        case driftCorrected = "drift_corrected"
        case notificationFailed = "notification_failed"
    }

    /// The stream's id: `<process epoch>-<sequence>`, so a client resuming against a restarted controller is told
    /// that it missed events instead of being handed the wrong ones.
    public var id: String
    public var sequence: UInt64
    public var kind: Kind
    public var service: String
    /// The JSON the stream sends: always `type`, `service` and `time`, plus what the kind carries.
    public var data: JSONValue

    public init(id: String, sequence: UInt64, kind: Kind, service: String, data: JSONValue) {
        self.id = id
        self.sequence = sequence
        self.kind = kind
        self.service = service
        self.data = data
    }
}

extension ControllerEvent {
    /// The service the event is about.
    public var service: String {
        switch self {
        case .reconcileStarted(let service, _), .reconcileFinished(let service, _), .waiting(let service, _),
            .notificationFailed(let service, _), .suspension(let service, _):
            service
        }
    }

    /// The state the service is in after this event (the names of the status API), or `nil` when the event
    /// does not settle it (a cancelled reconcile, a notification).
    public var state: String? {
        switch self {
        case .reconcileStarted: "reconciling"
        case .waiting: "waiting"
        case .notificationFailed: nil
        case .suspension(_, let suspended): suspended ? "suspended" : nil
        case .reconcileFinished(_, let outcome):
            switch outcome {
            case .applied, .upToDate: "succeeded"
            case .failed: "failed"
            case .superseded: "superseded"
            case .suspended: "suspended"
            case .cancelled: nil
            }
        }
    }
}
