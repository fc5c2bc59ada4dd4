/// One kind of object ``FakeAPIServer`` serves: where it lives in the REST tree, how it is named, what it allows.
struct APIResource: Sendable, Hashable {
    /// API group; empty for the core group.
    var group: String
    /// Served versions, preferred first.
    var versions: [String]
    /// Plural resource name used in paths, e.g. `deployments`.
    var name: String
    /// Singular name, e.g. `deployment`.
    var singularName: String
    /// Object kind, e.g. `Deployment`.
    var kind: String
    /// Whether objects live in a namespace.
    var namespaced: Bool
    /// Short names for discovery (`deploy`).
    var shortNames: [String] = []
    /// Whether the resource has a `status` subresource (so `status` is not taken from apply on the main resource).
    var hasStatus: Bool = true
    /// Whether a CustomResourceDefinition defines it.
    var isCustom: Bool = false
    /// Whether it can only be read (`get`, `list`), as an aggregated API such as metrics.k8s.io serves its kinds:
    /// nothing of it is stored in a namespace, and writes answer 405.
    var readOnly: Bool = false

    /// Verbs of the main resource, as discovery lists them.
    var verbs: [String] {
        if readOnly { return ["get", "list"] }
        let all = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        return name == "namespaces" ? all.filter { $0 != "deletecollection" } : all
    }

    /// `group/version`, or `version` for the core group.
    func apiVersion(_ version: String) -> String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The name the server uses in messages: `deployments.apps`, or `configmaps` for the core group.
    var groupResource: String { group.isEmpty ? name : "\(name).\(group)" }

    /// The qualified kind the server uses in validation messages: `Deployment.apps`, or `ConfigMap`.
    var groupKind: String { group.isEmpty ? kind : "\(kind).\(group)" }

    /// The resources every cluster serves (the subset Wherry needs).
    static let builtins: [APIResource] = [
        core("namespaces", "Namespace", namespaced: false, short: ["ns"]),
        core("configmaps", "ConfigMap", short: ["cm"], status: false),
        core("secrets", "Secret", status: false),
        core("services", "Service", short: ["svc"]),
        core("serviceaccounts", "ServiceAccount", short: ["sa"], status: false),
        core("pods", "Pod", short: ["po"]),
        core("persistentvolumeclaims", "PersistentVolumeClaim", short: ["pvc"]),
        core("events", "Event", short: ["ev"], status: false),
        APIResource("apps", "deployments", "Deployment", short: ["deploy"]),
        APIResource("apps", "statefulsets", "StatefulSet", short: ["sts"]),
        APIResource("apps", "daemonsets", "DaemonSet", short: ["ds"]),
        APIResource("apps", "replicasets", "ReplicaSet", short: ["rs"]),
        APIResource("batch", "jobs", "Job"),
        APIResource("batch", "cronjobs", "CronJob", short: ["cj"]),
        APIResource("rbac.authorization.k8s.io", "roles", "Role", status: false),
        APIResource("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", status: false),
        APIResource("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced: false, status: false),
        APIResource(
            "rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced: false, status: false),
        APIResource(
            "apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false,
            short: ["crd", "crds"]),
        APIResource("networking.k8s.io", "ingresses", "Ingress", short: ["ing"]),
        APIResource("networking.k8s.io", "networkpolicies", "NetworkPolicy", short: ["netpol"], status: false),
        APIResource("networking.k8s.io", "ingressclasses", "IngressClass", namespaced: false, status: false),
        APIResource("policy", "poddisruptionbudgets", "PodDisruptionBudget", short: ["pdb"]),
        APIResource("coordination.k8s.io", "leases", "Lease", status: false),
        APIResource(
            "storage.k8s.io", "storageclasses", "StorageClass", namespaced: false, short: ["sc"], status: false),
        APIResource("apiregistration.k8s.io", "apiservices", "APIService", namespaced: false),
    ]

    /// The APIService resource: an object of it with a `spec.service` registers an aggregated group version.
    static let apiServices = builtins.first { $0.name == "apiservices" }!

    /// The CustomResourceDefinition resource.
    static let customResourceDefinitions = builtins.first { $0.name == "customresourcedefinitions" }!

    /// The Namespace resource.
    static let namespaces = builtins[0]

    private init(
        _ group: String, _ name: String, _ kind: String, namespaced: Bool = true, short: [String] = [],
        status: Bool = true
    ) {
        self.init(
            group: group, versions: ["v1"], name: name, singularName: kind.lowercased(), kind: kind,
            namespaced: namespaced, shortNames: short, hasStatus: status)
    }

    /// A core-group (`v1`) resource.
    private static func core(
        _ name: String, _ kind: String, namespaced: Bool = true, short: [String] = [], status: Bool = true
    ) -> APIResource {
        APIResource("", name, kind, namespaced: namespaced, short: short, status: status)
    }

    /// A resource from its parts.
    init(
        group: String, versions: [String], name: String, singularName: String, kind: String, namespaced: Bool,
        shortNames: [String] = [], hasStatus: Bool = true, isCustom: Bool = false, readOnly: Bool = false
    ) {
        self.group = group
        self.versions = versions
        self.name = name
        self.singularName = singularName
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.hasStatus = hasStatus
        self.isCustom = isCustom
        self.readOnly = readOnly
    }
}
