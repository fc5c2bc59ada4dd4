import WherryModel

/// The one controller the fake runs, because every real cluster runs it and it changes objects Wherry applied:
/// the Deployment controller. Moments after a Deployment is created or its spec changes (``controllerDelay``), it
/// writes, as `kube-controller-manager` through the `status` subresource, the annotation
/// `deployment.kubernetes.io/revision` and a status (`observedGeneration`, replica counts, `Available` and
/// `Progressing` conditions; no Pods run, so the Deployment never becomes available), with a new resourceVersion.
/// A client that compares whole objects taken at different moments sees a change that is not there.
///
/// As on a real cluster with no kubelet, no Pod ever becomes ready: once `spec.progressDeadlineSeconds` have passed
/// since the spec changed, the controller marks the rollout failed (`Progressing` False, reason
/// `ProgressDeadlineExceeded`, message `ReplicaSet "<name>-…" has timed out progressing.`).
extension FakeClusterState {
    /// The annotation the Deployment controller keeps.
    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    /// Schedules the controllers' reaction to a write of `stored` (which replaced `live`, if any).
    mutating func scheduleControllers(
        after stored: StoredObject, replacing live: StoredObject?, key: StoredObject.Key, now: ContinuousClock.Instant
    ) {
        guard key.group == "apps", key.resource == "deployments" else { return }
        let generation = stored.body.value(at: ["metadata", "generation"])
        guard live == nil || live?.body.value(at: ["metadata", "generation"]) != generation else { return }
        pendingControllerWrites[key] = now + controllerDelay
        rolloutStarted[key] = now
    }

    /// Writes what the Deployment controller writes for one Deployment.
    mutating func runDeploymentController(_ key: StoredObject.Key, now: ContinuousClock.Instant) {
        guard var stored = objects[key], !stored.isDeleting else { return }
        var deadlinePassed = false
        if case .int(let seconds)? = stored.body.value(at: ["spec", "progressDeadlineSeconds"]),
            let started = rolloutStarted[key]
        {
            let deadline = started + .seconds(seconds)
            if now >= deadline { deadlinePassed = true } else { pendingControllerWrites[key] = deadline }
        }
        let generation = stored.body.value(at: ["metadata", "generation"]) ?? 1
        let previous = Int(
            stored.body.value(at: ["metadata", "annotations", Self.revisionAnnotation])?.stringValue ?? "")
        let templateChanged = previous == nil || stored.body.value(at: ["status", "observedGeneration"]) != generation
        let revision = (previous ?? 0) + (templateChanged ? 1 : 0)
        stored.body.setValue(
            .string(String(revision)), at: ["metadata", "annotations", Self.revisionAnnotation])
        let replicas = stored.body.value(at: ["spec", "replicas"]) ?? 1
        let time = Self.timestamp()
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            [
                "type": .string(type), "status": .string(status), "reason": .string(reason),
                "message": .string(message), "lastUpdateTime": .string(time), "lastTransitionTime": .string(time),
            ]
        }
        let status: JSONObject = [
            "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "unavailableReplicas": replicas, "terminatingReplicas": 0,
            "conditions": [
                condition(
                    "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
                ),
                deadlinePassed
                    ? condition(
                        "Progressing", "False", "ProgressDeadlineExceeded",
                        "ReplicaSet \"\(key.name)-5d4f8c7b9\" has timed out progressing.")
                    : condition(
                        "Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"\(key.name)\" is progressing."),
            ],
        ]
        stored.body["status"] = .object(status)
        let fields = FieldSet(
            [["metadata", "annotations", Self.revisionAnnotation]]
                + FieldSet.leaves(of: ["status": .object(status)]).sorted)
        stored.managers.removeAll { $0.manager == "kube-controller-manager" && $0.subresource == "status" }
        stored.managers.append(
            StoredObject.Manager(
                manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1", time: time,
                fields: fields, subresource: "status"))
        stored.body.setValue(.string(nextResourceVersion()), at: ["metadata", "resourceVersion"])
        objects[key] = stored
    }
}
