import WherryModel

/// The JSON bodies of the stream's events, bounded: a long error is cut, a long drift list is cut.
enum EventPayload {
    /// Characters of an error message an event carries (the service's status has it in full).
    static let errorLimit = 4000
    /// Objects a `drift_corrected` event names.
    static let driftLimit = 20

    /// The events one controller event stands for, before the state change.
    static func bodies(of event: ControllerEvent) -> [(GitOpsEvent.Kind, JSONObject)] {
        switch event {
        case .reconcileStarted(_, let trigger):
            return [(.reconcileStarted, ["trigger": .string(trigger.rawValue)])]
        case .waiting, .suspension:
            return []
        case .notificationFailed(_, let error):
            return [(.notificationFailed, ["error": .string(cut(error))])]
        case .reconcileFinished(_, let outcome):
            return finished(outcome)
        }
    }

    /// `reconcile_finished` with its result, revision, changes and error; `drift_corrected` after it when an apply
    /// put objects back.
    static func finished(_ outcome: ReconcileOutcome) -> [(GitOpsEvent.Kind, JSONObject)] {
        var body: JSONObject = [:]
        var drifted: [ObjectRef] = []
        switch outcome {
        case .applied(let result, _):
            body = ["result": "succeeded", "revision": .string(result.commit)]
            body["changes"] = ApplyAction.json(result.changes.counts)
            drifted = result.drifted
        case .upToDate(let revision, _):
            body = ["result": "unchanged", "revision": .string(revision)]
        case .superseded(let result):
            body = ["result": "superseded", "revision": .string(result.commit)]
            body["changes"] = ApplyAction.json(result.changes.counts)
        case .failed(let error):
            body = ["result": "failed", "error": .string(cut(error.description))]
            if !error.commit.isEmpty { body["revision"] = .string(error.commit) }
        case .suspended:
            body = ["result": "suspended"]
        case .cancelled:
            body = ["result": "cancelled"]
        }
        guard !drifted.isEmpty else { return [(.reconcileFinished, body)] }
        let drift: JSONObject = [
            "count": .int(Int64(drifted.count)),
            "objects": .array(drifted.prefix(driftLimit).map { .string($0.description) }),
        ]
        return [(.reconcileFinished, body), (.driftCorrected, drift)]
    }

    /// `state_changed`: the new state, the one before (`null` when unknown), and the dependency waited for.
    static func stateChanged(
        _ event: ControllerEvent, from previous: String?, to state: String
    )
        -> (GitOpsEvent.Kind, JSONObject)
    {
        var body: JSONObject = ["state": .string(state), "previous": previous.map(JSONValue.string) ?? .null]
        if case .waiting(_, let dependency) = event { body["waiting_for"] = .string(dependency) }
        return (.stateChanged, body)
    }

    static func cut(_ text: String) -> String {
        text.count > errorLimit ? String(text.prefix(errorLimit)) + "…" : text
    }
}
