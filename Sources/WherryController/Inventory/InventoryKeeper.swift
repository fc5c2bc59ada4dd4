public import WherryKube
public import WherryModel

/// Keeps service inventories: the original in the cluster (``ClusterInventory``, shared by every Wherry that
/// manages it, and surviving a lost disk) and a copy in the ``StatusStore`` when there is one (for the status API,
/// and as a fallback when the cluster's copy was removed by hand).
public struct InventoryKeeper: Sendable {
    public let cluster: ClusterInventory
    public let store: (any StatusStore)?

    public init(cluster: ClusterInventory, store: (any StatusStore)? = nil) {
        self.cluster = cluster
        self.store = store
    }

    /// A service's inventory: the cluster's, else the store's copy, else empty (never applied). `preloaded` holds
    /// every inventory the cluster had, read with one LIST (a sync of many services), instead of one GET each.
    public func load(service: String, preloaded: [String: Inventory]? = nil) async throws(KubeAPIError) -> Inventory {
        if let preloaded {
            if let stored = preloaded[service] { return stored }
        } else if let stored = try await cluster.load(service: service) {
            return stored
        }
        if let copy = try? await store?.inventory(of: service) { return copy }
        return Inventory()
    }

    /// Saves a service's inventory in the cluster, then the copy.
    public func save(_ inventory: Inventory, service: String, revision: String) async throws(KubeAPIError) {
        try await cluster.save(inventory, service: service, revision: revision)
        try? await store?.saveInventory(inventory, of: service)
    }

    /// Services that have an inventory but are not in `config`: their objects are orphaned (left in place).
    public func orphans(in config: WherryConfig) async throws(KubeAPIError) -> [String: Inventory] {
        let configured = Set(config.services.map(\.name))
        var all = try await cluster.loadAll()
        for service in (try? await store?.inventoryServices()) ?? [] where all[service] == nil {
            if let copy = try? await store?.inventory(of: service) { all[service] = copy }
        }
        return all.filter { !configured.contains($0.key) && !$0.value.isEmpty }
    }
}
