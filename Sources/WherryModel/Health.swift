/// Whether an object does what it was applied for: a Deployment rolled out, a Job completed, a CRD established.
public enum Health: Sendable, Hashable, CustomStringConvertible {
    case healthy
    /// Not there yet; may still get there. The text says what is awaited.
    case progressing(String)
    /// Failed and will not recover by waiting (a rollout past its deadline, a failed Job, a crashing Pod).
    case degraded(String)

    public var isHealthy: Bool { self == .healthy }

    public var description: String {
        switch self {
        case .healthy: "healthy"
        case .progressing(let reason): "progressing: \(reason)"
        case .degraded(let reason): "degraded: \(reason)"
        }
    }

    /// The health of a live object, by kind; kinds without a check are healthy once they exist.
    public static func of(_ object: JSONValue) -> Health {
        if object["metadata"]?["deletionTimestamp"] != nil { return .progressing("being deleted") }
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        let group = GroupVersionKind(apiVersion: apiVersion, kind: kind).group
        switch (group, kind) {
        case ("apps", "Deployment"): return deployment(object)
        case ("apps", "StatefulSet"): return statefulSet(object)
        case ("apps", "DaemonSet"): return daemonSet(object)
        case ("batch", "Job"): return job(object)
        case ("", "Pod"): return pod(object)
        case ("", "PersistentVolumeClaim"): return persistentVolumeClaim(object)
        case ("", "Service"): return service(object)
        case ("", "Namespace"): return namespace(object)
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): return customResourceDefinition(object)
        default: return readyCondition(object)
        }
    }

    // MARK: - Workloads

    static func deployment(_ object: JSONValue) -> Health {
        if let waiting = unobserved(object) { return waiting }
        if let progressing = condition("Progressing", in: object),
            progressing["reason"]?.stringValue == "ProgressDeadlineExceeded"
        {
            let message = progressing["message"]?.stringValue ?? "the rollout made no progress in time"
            return .degraded("rollout failed: ProgressDeadlineExceeded: \(message)")
        }
        if object["spec"]?["paused"] == .bool(true) { return .healthy }
        let status = object["status"]
        let replicas = int(object["spec"]?["replicas"]) ?? 1
        let updated = int(status?["updatedReplicas"]) ?? 0
        let current = int(status?["replicas"]) ?? 0
        let available = int(status?["availableReplicas"]) ?? 0
        if updated < replicas { return .progressing("\(updated) of \(replicas) replicas updated") }
        if current > updated { return .progressing("\(current - updated) old replicas are pending termination") }
        if available < updated { return .progressing("\(available) of \(updated) updated replicas available") }
        return .healthy
    }

    static func statefulSet(_ object: JSONValue) -> Health {
        if let waiting = unobserved(object) { return waiting }
        let spec = object["spec"]
        if spec?["updateStrategy"]?["type"]?.stringValue == "OnDelete" { return .healthy }
        let status = object["status"]
        let replicas = int(spec?["replicas"]) ?? 1
        let ready = int(status?["readyReplicas"]) ?? 0
        if ready < replicas { return .progressing("\(ready) of \(replicas) replicas ready") }
        let partition = int(spec?["updateStrategy"]?["rollingUpdate"]?["partition"]) ?? 0
        if partition > 0 {
            let updated = int(status?["updatedReplicas"]) ?? 0
            if updated < replicas - partition {
                return .progressing("\(updated) of \(replicas - partition) replicas updated (partition \(partition))")
            }
            return .healthy
        }
        let current = status?["currentRevision"]?.stringValue
        let update = status?["updateRevision"]?.stringValue
        if let update, current != update { return .progressing("rolling out revision \(update)") }
        return .healthy
    }

    static func daemonSet(_ object: JSONValue) -> Health {
        if let waiting = unobserved(object) { return waiting }
        if object["spec"]?["updateStrategy"]?["type"]?.stringValue == "OnDelete" { return .healthy }
        let status = object["status"]
        let desired = int(status?["desiredNumberScheduled"]) ?? 0
        let updated = int(status?["updatedNumberScheduled"]) ?? 0
        let available = int(status?["numberAvailable"]) ?? 0
        if updated < desired { return .progressing("\(updated) of \(desired) pods updated") }
        if available < desired { return .progressing("\(available) of \(desired) pods available") }
        return .healthy
    }

    static func job(_ object: JSONValue) -> Health {
        if let failed = condition("Failed", in: object), failed["status"]?.stringValue == "True" {
            let reason = failed["reason"]?.stringValue ?? "Failed"
            return .degraded("job failed: \(reason): \(failed["message"]?.stringValue ?? "")")
        }
        if let complete = condition("Complete", in: object), complete["status"]?.stringValue == "True" {
            return .healthy
        }
        if object["spec"]?["suspend"] == .bool(true) { return .healthy }
        let succeeded = int(object["status"]?["succeeded"]) ?? 0
        let completions = int(object["spec"]?["completions"]) ?? 1
        return .progressing("\(succeeded) of \(completions) completions")
    }

    /// Container states that will not get better by waiting.
    static let failingWaitReasons: Set<String> = [
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError",
        "CreateContainerError",
    ]

    static func pod(_ object: JSONValue) -> Health {
        let status = object["status"]
        let phase = status?["phase"]?.stringValue ?? "Pending"
        if phase == "Succeeded" { return .healthy }
        if phase == "Failed" {
            return .degraded(
                "pod failed: \(status?["reason"]?.stringValue ?? "") \(status?["message"]?.stringValue ?? "")")
        }
        let containers =
            (status?["initContainerStatuses"]?.arrayValue ?? []) + (status?["containerStatuses"]?.arrayValue ?? [])
        for container in containers {
            if let waiting = container["state"]?["waiting"], let reason = waiting["reason"]?.stringValue,
                failingWaitReasons.contains(reason)
            {
                let name = container["name"]?.stringValue ?? "?"
                return .degraded("container \(name): \(reason): \(waiting["message"]?.stringValue ?? "")")
            }
        }
        if let ready = condition("Ready", in: object), ready["status"]?.stringValue == "True" { return .healthy }
        return .progressing("phase \(phase), not ready")
    }

    // MARK: - Others

    static func persistentVolumeClaim(_ object: JSONValue) -> Health {
        switch object["status"]?["phase"]?.stringValue ?? "Pending" {
        case "Bound": return .healthy
        case "Lost": return .degraded("the claim lost its volume")
        case let phase: return .progressing("phase \(phase)")
        }
    }

    static func service(_ object: JSONValue) -> Health {
        guard object["spec"]?["type"]?.stringValue == "LoadBalancer" else { return .healthy }
        let ingress = object["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
        return ingress.isEmpty ? .progressing("waiting for a load balancer address") : .healthy
    }

    static func namespace(_ object: JSONValue) -> Health {
        let phase = object["status"]?["phase"]?.stringValue ?? ""
        return phase == "Active" ? .healthy : .progressing("phase '\(phase)'")
    }

    static func customResourceDefinition(_ object: JSONValue) -> Health {
        if let names = condition("NamesAccepted", in: object), names["status"]?.stringValue == "False" {
            return .degraded("names not accepted: \(names["message"]?.stringValue ?? "")")
        }
        if let established = condition("Established", in: object), established["status"]?.stringValue == "True" {
            return .healthy
        }
        return .progressing("not yet Established")
    }

    /// Custom resources: a `Ready` condition (and `observedGeneration`, when the status has one) decides; a
    /// `Stalled` condition that is True is a failure; without conditions an object is healthy once it exists.
    static func readyCondition(_ object: JSONValue) -> Health {
        if object["status"]?["observedGeneration"] != nil, let waiting = unobserved(object) { return waiting }
        if let stalled = condition("Stalled", in: object), stalled["status"]?.stringValue == "True" {
            return .degraded("stalled: \(stalled["message"]?.stringValue ?? stalled["reason"]?.stringValue ?? "")")
        }
        guard let ready = condition("Ready", in: object) else { return .healthy }
        if ready["status"]?.stringValue == "True" { return .healthy }
        let reason = ready["reason"]?.stringValue ?? "NotReady"
        return .progressing(
            "Ready is \(ready["status"]?.stringValue ?? "Unknown"): \(reason) \(ready["message"]?.stringValue ?? "")")
    }

    // MARK: - Helpers

    /// Whether a workload's controller (Deployment, StatefulSet, DaemonSet: kube-controller-manager's) has not yet
    /// seen its current spec: `status.observedGeneration` behind `metadata.generation`. A controller that falls
    /// behind shows up here before anything else, whatever the object's health will be once it is seen. Other kinds
    /// are not judged: a custom resource's `observedGeneration` may lag because its operator is down or only
    /// records success, which is not readiness of the cluster's controllers.
    public static func awaitsController(_ object: JSONValue) -> Bool {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        guard apiVersion == "apps/v1", ["Deployment", "StatefulSet", "DaemonSet"].contains(kind) else { return false }
        let generation = int(object["metadata"]?["generation"]) ?? 0
        return (int(object["status"]?["observedGeneration"]) ?? 0) < generation
    }

    /// Progressing while the controller has not seen the latest spec.
    static func unobserved(_ object: JSONValue) -> Health? {
        let generation = int(object["metadata"]?["generation"]) ?? 0
        let observed = int(object["status"]?["observedGeneration"]) ?? 0
        return observed < generation
            ? .progressing("waiting for the controller to observe generation \(generation)") : nil
    }

    static func condition(_ type: String, in object: JSONValue) -> JSONValue? {
        object["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func int(_ value: JSONValue?) -> Int? {
        switch value {
        case .int(let number)?: Int(number)
        case .double(let number)?: Int(number)
        default: nil
        }
    }
}
