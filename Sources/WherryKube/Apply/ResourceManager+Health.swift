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
}
