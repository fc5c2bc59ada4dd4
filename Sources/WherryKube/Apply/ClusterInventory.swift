public import WherryModel

/// Service inventories kept in the cluster, one ConfigMap `wherry-inventory-<service>` per service in Wherry's own
/// namespace, so a Wherry that starts with an empty disk (a new Pod, another replica) still knows what it owns.
///
/// The ConfigMap holds `service`, `revision` and `entries` (one ``InventoryEntry/line`` per object). It carries
/// `app.kubernetes.io/managed-by: wherry` and `wherry.dev/inventory: <service>`, never `wherry.dev/service`, so it
/// is not part of any service's objects and is never pruned.
public struct ClusterInventory: Sendable {
    public let api: any KubeAPI
    /// Wherry's own namespace (`--namespace`, default `wherry-system`), created when missing at the first save.
    public let namespace: String
    public let fieldManager: String

    /// The default for `--namespace`.
    public static let defaultNamespace = "wherry-system"
    /// The label naming the service an inventory belongs to.
    public static let label = "wherry.dev/inventory"

    public init(api: any KubeAPI, namespace: String = defaultNamespace, fieldManager: String = "wherry") {
        self.api = api
        self.namespace = namespace
        self.fieldManager = fieldManager
    }

    /// `wherry-inventory-<service>`.
    ///
    /// A service name a ConfigMap name cannot hold (upper case, `_`) is lowered and given a short hash of the real
    /// name, so `Web_1` and `web-1` never share an inventory.
    public static func configMapName(service: String) -> String {
        let safe = String(
            service.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        guard safe != service else { return "wherry-inventory-" + service }
        return "wherry-inventory-\(safe)-" + Digest.sha256Hex(Array(service.utf8)).prefix(8)
    }

    private var collection: String { "/api/v1/namespaces/\(namespace)/configmaps" }

    private func path(_ service: String) -> String { collection + "/" + Self.configMapName(service: service) }

    /// The stored inventory of a service; `nil` when there is none (a service never applied, or its Namespace
    /// does not exist yet).
    public func load(service: String) async throws(KubeAPIError) -> Inventory? {
        let configMap: JSONValue
        do {
            configMap = try await api.get(path(service))
        } catch  where error.isNotFound {
            return nil
        }
        return Self.inventory(of: configMap)
    }

    /// Every stored inventory, by service name.
    public func loadAll() async throws(KubeAPIError) -> [String: Inventory] {
        let items: [JSONValue]
        do {
            items = try await api.list(collection, labelSelector: Self.label)
        } catch  where error.isNotFound {
            return [:]
        }
        var all: [String: Inventory] = [:]
        for item in items {
            if let service = item["data"]?["service"]?.stringValue, let inventory = Self.inventory(of: item) {
                all[service] = inventory
            }
        }
        return all
    }

    /// Stores a service's inventory, creating Wherry's namespace when it is missing.
    public func save(_ inventory: Inventory, service: String, revision: String) async throws(KubeAPIError) {
        let configMap: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(Self.configMapName(service: service)), "namespace": .string(namespace),
                "labels": [
                    WherryLabels.managedBy: .string(WherryLabels.managedByValue),
                    Self.label: .string(service),
                ],
            ],
            "data": ["service": .string(service), "revision": .string(revision), "entries": .string(inventory.text)],
        ]
        let options = ApplyOptions(fieldManager: fieldManager, force: true, dryRun: false)
        do {
            _ = try await api.apply(path(service), object: configMap, options: options)
        } catch  where error.isNotFound {
            // Wherry's namespace does not exist yet: make it, then store.
            let namespaceObject: JSONValue = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": [
                    "name": .string(namespace),
                    "labels": [WherryLabels.managedBy: .string(WherryLabels.managedByValue)],
                ],
            ]
            _ = try await api.apply("/api/v1/namespaces/\(namespace)", object: namespaceObject, options: options)
            _ = try await api.apply(path(service), object: configMap, options: options)
        }
    }

    /// Removes a service's stored inventory (after `wherry prune --service` emptied it).
    public func remove(service: String) async throws(KubeAPIError) {
        do {
            try await api.delete(path(service), options: DeleteOptions())
        } catch  where error.isNotFound {
            // Already gone.
        }
    }

    static func inventory(of configMap: JSONValue) -> Inventory? {
        guard let text = configMap["data"]?["entries"]?.stringValue else { return nil }
        return Inventory.parse(text).0
    }
}
