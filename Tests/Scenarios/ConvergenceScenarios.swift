import Foundation
import Logging
import Testing
public import WherryController
import WherryGit
public import WherryKube
import WherryModel
import WherryTesting

/// Prune, drift and health scenarios of whole services (Git → render → apply → inventory → prune), run unchanged
/// against `FakeAPIServer` and against a real cluster (E2E). Each scenario uses its own namespace for objects and
/// its own namespace for inventories, so scenarios can run in parallel; ``cleanUp()`` removes both.
public struct ConvergenceScenarios: Sendable {
    public let api: any KubeAPI
    /// Namespace of the objects (services create it: `create_namespace: true`).
    public let namespace: String
    /// Wherry's own namespace for this scenario's inventories.
    public let inventoryNamespace: String
    /// Counts the calls the syncer makes.
    public let counter: CountingKubeAPI

    public init(api: any KubeAPI, namespace: String) {
        self.api = api
        self.namespace = namespace
        inventoryNamespace = namespace + "-wherry"
        counter = CountingKubeAPI(api)
    }

    /// Deletes the scenario's namespaces.
    public func cleanUp() async {
        for name in [namespace, inventoryNamespace, namespace + "-extra"] {
            try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
        }
    }

    static var quiet: Logger {
        var logger = Logger(label: "wherry.test")
        logger.logLevel = .critical
        return logger
    }

    /// A repository, the config of its services, and a syncer on the cluster.
    struct Harness: Sendable {
        let remote: GitRemoteFixture
        let cache: TemporaryDirectory
        let syncer: ServiceSyncer
        let servicesYAML: String
        var topLevelYAML = ""
        /// More keys of repository `r` (`, key: value` each).
        var repositoryYAML = ""

        func config() throws -> WherryConfig {
            let text =
                "github_configs:\n  r: {url: \(remote.fileURL)\(repositoryYAML)}\n\(topLevelYAML)services:\n"
                + servicesYAML
            return try ConfigLoader.parse(text, file: "gitops-config.yaml", baseDirectory: "/").config
        }

        /// One sync of every service, outcomes by service name.
        func sync(allowMassPrune: Bool = false, dryRun: Bool = false) async throws -> [String: ServiceSyncOutcome] {
            let config = try config()
            let outcomes = await syncer.syncAll(
                config.services, in: config, dryRun: dryRun, allowMassPrune: allowMassPrune)
            return Dictionary(uniqueKeysWithValues: zip(config.services.map(\.name), outcomes))
        }

        func reconciler(_ store: any StatusStore) -> Reconciler {
            Reconciler(syncer: syncer, store: store, logger: ConvergenceScenarios.quiet)
        }
    }

    func withHarness(
        services: String, files: [String: String?], topLevel: String = "", repository: String = "",
        _ body: (Harness) async throws -> Void
    ) async throws {
        let remote = try await GitRemoteFixture()
        try await remote.commit(files)
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            remote.remove()
            cache.remove()
        }
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path), logger: Self.quiet),
            manager: ResourceManager(api: counter, logger: Self.quiet), concurrency: 8,
            inventories: InventoryKeeper(
                cluster: ClusterInventory(api: counter, namespace: inventoryNamespace), store: InMemoryStatusStore()),
            logger: Self.quiet)
        try await body(
            Harness(
                remote: remote, cache: cache, syncer: syncer, servicesYAML: services, topLevelYAML: topLevel,
                repositoryYAML: repository))
    }

    /// `  - {name: <name>, github: r, k8s_yaml_dir: <name>, namespace: <ns>, create_namespace: true, <extra>}`
    func service(_ name: String, _ extra: String = "") -> String {
        "  - {name: \(name), github: r, k8s_yaml_dir: \(name), namespace: \(namespace), create_namespace: true"
            + (extra.isEmpty ? "" : ", \(extra)") + "}\n"
    }

    func configMap(_ name: String, _ value: String = "1", annotations: String = "") -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n"
            + (annotations.isEmpty ? "" : "  annotations: {\(annotations)}\n") + "data:\n  k: \"\(value)\"\n"
    }

    func deployment(_ name: String, replicas: Int = 1, extraSpec: String = "") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: \(name)
        spec:
          replicas: \(replicas)
        \(extraSpec.isEmpty ? "" : "  " + extraSpec + "\n")  selector:
            matchLabels: {app: \(name)}
          template:
            metadata:
              labels: {app: \(name)}
            spec:
              containers:
              - {name: app, image: "registry.k8s.io/pause:3.9"}

        """
    }

    func path(_ resource: String, _ name: String, group: String = "") -> String {
        (group.isEmpty ? "/api/v1" : "/apis/\(group)/v1") + "/namespaces/\(namespace)/\(resource)/\(name)"
    }

    func exists(_ path: String) async throws -> Bool {
        do {
            _ = try await api.get(path)
            return true
        } catch  where error.isNotFound {
            return false
        }
    }

    func inventoryText(_ service: String) async throws -> String {
        let name = ClusterInventory.configMapName(service: service)
        return try await api.get("/api/v1/namespaces/\(inventoryNamespace)/configmaps/\(name)")["data"]?["entries"]?
            .stringValue ?? ""
    }

    static func changes(_ outcome: ServiceSyncOutcome?) -> [String] {
        guard case .synced(let result)? = outcome else {
            Issue.record("the service did not sync: \(String(describing: outcome))")
            return []
        }
        return result.changes.entries.map(\.description)
    }

    static func failure(_ outcome: ServiceSyncOutcome?) -> String {
        guard case .failed(let error)? = outcome else {
            Issue.record("the service did not fail: \(String(describing: outcome))")
            return ""
        }
        return error.description
    }
}
