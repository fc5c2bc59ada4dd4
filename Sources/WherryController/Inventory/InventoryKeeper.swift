import Synchronization
public import WherryKube
public import WherryModel

/// Keeps service inventories: the original in the cluster (``ClusterInventory``, shared by every Wherry that
/// manages it, and surviving a lost disk) and a copy in the ``StatusStore`` when there is one (for the status API,
/// and as a fallback when the cluster's copy was removed by hand).
public struct InventoryKeeper: Sendable {
    public let cluster: ClusterInventory
    public let store: (any StatusStore)?
    /// What the cluster's inventories said last (read or written by this process), per service.
    private let known: RecordedInventories

    public init(cluster: ClusterInventory, store: (any StatusStore)? = nil) {
        self.cluster = cluster
        self.store = store
        known = RecordedInventories()
    }

    /// The digest recorded in the cluster for the last complete apply of `service` (`nil`: none, or an apply is
    /// under way or failed half-way). Read from the cluster once, then kept up to date by this keeper's own writes:
    /// only the leader writes inventories, so polls of unchanged services cost no request. ``forgetRecorded()`` makes
    /// the next call read again (a new leadership term: another leader may have written meanwhile).
    ///
    /// Another instance's inventory records nothing for this one (`nil`): the apply goes on and its plan refuses the
    /// service, naming both instances, instead of taking the other's digest for its own.
    public func recordedDigest(of service: String) async throws(KubeAPIError) -> String? {
        if let stored = known.value(service) { return foreignOwner(of: service, stored) == nil ? stored.digest : nil }
        let stored = try await cluster.load(service: service)
        known.set(service, stored ?? StoredInventory(inventory: Inventory()))
        guard let stored, foreignOwner(of: service, stored) == nil else { return nil }
        return stored.digest
    }

    /// Reads every inventory of the cluster with one LIST and remembers them (see ``recordedDigest(of:)``).
    public func loadAll() async throws(KubeAPIError) -> [String: StoredInventory] {
        let all = try await cluster.loadAll()
        known.replaceAll(all)
        return all
    }

    /// Forgets what the cluster's inventories said: the next ``recordedDigest(of:)`` reads them again.
    public func forgetRecorded() {
        known.clear()
    }

    /// A service's inventory: the cluster's, else the store's copy (not in the cluster: the next save creates it),
    /// else empty (never applied). `preloaded` holds every inventory the cluster had, read with one LIST (a sync of
    /// many services), instead of one GET each.
    public func load(
        service: String, preloaded: [String: StoredInventory]? = nil
    ) async throws(KubeAPIError) -> StoredInventory {
        if let preloaded {
            if let stored = preloaded[service] { return stored }
        } else if let stored = try await cluster.load(service: service) {
            known.set(service, stored)
            return stored
        }
        if let copy = try? await store?.inventory(of: service) { return StoredInventory(inventory: copy) }
        return StoredInventory(inventory: Inventory())
    }

    /// Saves a service's inventory in the cluster, conditional on `replacing` being what is stored there (see
    /// ``ClusterInventory/save(_:service:revision:digest:replacing:)``), then the copy. Returns what is stored now.
    @discardableResult
    public func save(
        _ inventory: Inventory, service: String, revision: String, digest: String? = nil,
        pending: Inventory = Inventory(), replacing: StoredInventory?
    ) async throws(KubeAPIError) -> StoredInventory {
        let stored: StoredInventory
        do {
            stored = try await cluster.save(
                inventory, service: service, revision: revision, digest: digest, pending: pending,
                replacing: replacing)
        } catch {
            // Unknown now: read again next time.
            known.remove(service)
            throw error
        }
        known.set(service, stored)
        try? await store?.saveInventory(inventory, of: service)
        return stored
    }

    /// Records in the cluster that `service` is suspended at runtime since `date` (ISO 8601), or no longer (`nil`).
    public func setSuspended(service: String, since date: String?) async throws(KubeAPIError) {
        defer { known.remove(service) }
        try await cluster.setSuspended(service: service, since: date)
    }

    /// The services the cluster's inventories mark as suspended at runtime, with since when (ISO 8601).
    /// Another instance's inventory of a service of the same name never suspends this one.
    public func suspensions() async throws(KubeAPIError) -> [String: String] {
        try await loadAll().filter { $0.value.instance == nil || owned($0.value) }.compactMapValues(\.suspendedAt)
    }

    /// Services that have an inventory in the cluster but are not in `config`: their objects are orphaned (left in
    /// place). The cluster's inventories decide: once `wherry prune --service` removed one, a copy left in a state
    /// store does not bring the orphan back.
    ///
    /// With an instance, only that instance's inventories count: another config's services (labelled with its
    /// instance, or written before instances and not configured here) are never this config's orphans.
    ///
    /// An inventory without an instance label (written before instances) that no service of `config` has is listed
    /// too: it may be this config's service removed before the upgrade, and hiding it would leave its objects behind
    /// unseen; `wherry prune` refuses it without `--adopt` (it may be another config's). The read never touches what
    /// ``recordedDigest(of:)`` remembers: a LIST that began before a concurrent save must not put the older
    /// inventory back.
    public func orphans(in config: WherryConfig) async throws(KubeAPIError) -> [String: Inventory] {
        let configured = Set(config.services.map(\.name))
        return try await cluster.loadAll().filter { service, stored in
            !configured.contains(service) && !stored.inventory.isEmpty && (owned(stored) || stored.instance == nil)
        }.mapValues(\.inventory)
    }

    /// Whether a stored inventory belongs to this keeper's instance (any, when it has none).
    public func owned(_ stored: StoredInventory) -> Bool {
        guard let instance = cluster.instance else { return true }
        return stored.instance == instance
    }

    /// Whether an inventory in the cluster has no instance label yet while this keeper has an instance: written
    /// before instances by this config (it configures the service), so it is labelled at the end of this apply.
    public func needsAdoption(_ stored: StoredInventory) -> Bool {
        cluster.instance != nil && stored.instance == nil && stored.resourceVersion != nil
    }

    /// The error for a service whose inventory another Wherry instance holds, or `nil` when it is this one's (or
    /// unlabelled: written before instances, adopted at its next save).
    public func foreignOwner(of service: String, _ stored: StoredInventory) -> String? {
        guard let instance = cluster.instance, let other = stored.instance, other != instance else { return nil }
        return "the inventory of service \(service) (ConfigMap \(cluster.location(of: service))) belongs to Wherry "
            + "instance '\(other)', not to this config's instance '\(instance)': two configs must not manage a "
            + "service of the same name in one inventory namespace; rename the service in one of them, use another "
            + "--namespace for one, or, if both configs really are one, give them the same `instance:`"
    }
}

/// The inventories last read from or written to the cluster by this process, per service.
final class RecordedInventories: Sendable {
    private struct Known {
        var byService: [String: StoredInventory] = [:]
        /// Whether `byService` holds every inventory of the cluster (a service missing from it has none).
        var complete = false
    }

    private let known = Mutex(Known())

    func value(_ service: String) -> StoredInventory? {
        known.withLock { known in
            known.byService[service] ?? (known.complete ? StoredInventory(inventory: Inventory()) : nil)
        }
    }

    func set(_ service: String, _ stored: StoredInventory) { known.withLock { $0.byService[service] = stored } }

    func remove(_ service: String) {
        known.withLock { known in
            known.byService[service] = nil
            known.complete = false
        }
    }

    /// Everything the cluster holds: services not in `all` have no inventory.
    func replaceAll(_ all: [String: StoredInventory]) { known.withLock { $0 = Known(byService: all, complete: true) } }

    func clear() { known.withLock { $0 = Known() } }
}
