/// The order objects are applied in, and the stages a sync waits between.
public enum ApplyOrder {
    /// Kinds applied first and waited for: everything else may depend on them.
    public static let firstStageKinds: Set<String> = ["CustomResourceDefinition", "Namespace", "ClusterRole"]

    /// Kinds in apply order; kinds not listed (custom resources) come after them, admission webhooks last.
    public static let kinds = [
        "CustomResourceDefinition", "Namespace", "ClusterRole", "ResourceQuota", "LimitRange", "PriorityClass",
        "StorageClass", "IngressClass", "RuntimeClass", "PodSecurityPolicy", "ServiceAccount", "Secret", "ConfigMap",
        "Role", "ClusterRoleBinding", "RoleBinding", "PersistentVolume", "PersistentVolumeClaim", "Service",
        "Endpoints", "NetworkPolicy", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
        "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "PodDisruptionBudget", "Ingress", "APIService",
    ]
    /// Kinds applied after everything else: they would intercept the other writes.
    public static let lastKinds = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]

    private static let rank: [String: Int] = {
        var rank: [String: Int] = [:]
        for (index, kind) in kinds.enumerated() { rank[kind] = index }
        for (index, kind) in lastKinds.enumerated() { rank[kind] = kinds.count + 1 + index }
        return rank
    }()

    /// The position of a kind; unknown kinds sit between the known ones and the webhooks.
    public static func rank(of kind: String) -> Int {
        rank[kind] ?? kinds.count
    }

    /// Whether `lhs` is applied before `rhs`: by kind rank, then group, kind, namespace and name, so runs repeat.
    public static func precedes(_ lhs: KubeObject, _ rhs: KubeObject) -> Bool {
        let (l, r) = (rank(of: lhs.kind), rank(of: rhs.kind))
        if l != r { return l < r }
        return lhs.ref < rhs.ref
    }

    /// Objects sorted for applying.
    public static func sorted(_ objects: [KubeObject]) -> [KubeObject] {
        objects.sorted(by: precedes)
    }

    /// Objects sorted for deleting: the reverse of the apply order.
    public static func sortedForDeletion(_ objects: [KubeObject]) -> [KubeObject] {
        sorted(objects).reversed()
    }
}
