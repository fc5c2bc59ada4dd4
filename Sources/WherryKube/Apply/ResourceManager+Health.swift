public import WherryModel

extension ResourceManager {
    /// Whether an object's kind has a health check worth a request: workloads, Pods, claims, Services,
    /// Namespaces, CRDs, and custom resources (which may report a `Ready` condition). Other kinds are healthy once
    /// applied.
    public static func hasHealthCheck(_ ref: ObjectRef) -> Bool {
        switch (ref.group, ref.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job"), ("", "Pod"),
            ("", "PersistentVolumeClaim"), ("", "Service"), ("", "Namespace"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return true
        default:
            return ref.group.contains(".") && !ref.group.hasSuffix(".k8s.io") && !ref.group.hasSuffix(".kubernetes.io")
        }
    }

    /// Waits until every object is healthy (``Health``), reading them every `interval`. Fails at once when one is
    /// degraded (a rollout past its progress deadline, a failed Job), with its reason; fails when `timeout` passes
    /// with the objects still progressing, saying what each awaits.
    public func waitUntilHealthy(
        _ entries: [InventoryEntry], timeout: Duration, interval: Duration = .seconds(2), concurrency: Int = 16
    ) async throws(ApplyError) {
        let deadline = ContinuousClock.now + timeout
        var pending = entries.filter { Self.hasHealthCheck($0.ref) }
        while true {
            let checks = await concurrentMap(pending, limit: concurrency) { entry in
                (entry, await health(of: entry))
            }
            var failures: [ObjectFailure] = []
            var waiting: [(InventoryEntry, String)] = []
            for (entry, health) in checks {
                switch health {
                case .success(.healthy): break
                case .success(.progressing(let reason)): waiting.append((entry, reason))
                case .success(.degraded(let reason)):
                    failures.append(
                        ObjectFailure(ref: entry.ref, message: reason, reason: "Degraded", isTransient: false))
                case .failure(let error):
                    if error.isCancelled { failures.append(ObjectFailure(ref: entry.ref, error: error)) }
                    waiting.append((entry, Self.message(error)))
                }
            }
            if !failures.isEmpty { throw ApplyError(step: .health, failures: failures) }
            guard !waiting.isEmpty else { return }
            guard ContinuousClock.now < deadline else {
                throw ApplyError(
                    step: .health,
                    failures: waiting.map {
                        ObjectFailure(
                            ref: $0.0.ref, message: "not healthy after \(timeout): \($0.1)", reason: "Timeout",
                            isTransient: true)
                    })
            }
            pending = waiting.map(\.0)
            do {
                try await Task.sleep(for: interval)
            } catch {
                let cancelled = HTTPKubeAPI.cancelled("wait for health")
                throw ApplyError(step: .health, failures: pending.map { ObjectFailure(ref: $0.ref, error: cancelled) })
            }
        }
    }

    func health(of entry: InventoryEntry) async -> Result<Health, KubeAPIError> {
        do {
            var live = try await api.get(try await objectPath(of: entry))
            // A GET answers with the version asked for; make sure the kind is there for the check.
            if case .object(var body) = live, body["kind"] == nil {
                body["kind"] = .string(entry.ref.kind)
                body["apiVersion"] = .string(entry.apiVersion)
                live = .object(body)
            }
            return .success(Health.of(live))
        } catch {
            return .failure(error)
        }
    }
}
