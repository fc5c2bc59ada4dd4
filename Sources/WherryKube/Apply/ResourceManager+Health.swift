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

    /// One object's health from a read of it (the dashboard's live view of a service).
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
