public import WherryModel

/// Service inventories kept in the cluster, one ConfigMap `wherry-inventory-<service>` per service in Wherry's own
/// namespace, so a Wherry that starts with an empty disk (a new Pod, another replica) still knows what it owns.
///
/// The ConfigMap holds `service`, `revision`, `entries` (one ``InventoryEntry/line`` per object) and, once an apply
/// of the service completed, `digest` (what the render read, so a leader with an empty disk, or one whose disk is
/// stale, can tell that the cluster holds that render). It carries
/// `app.kubernetes.io/managed-by: wherry` and `wherry.dev/inventory: <service>`, never `wherry.dev/service`, so it
/// is not part of any service's objects and is never pruned.
public struct ClusterInventory: Sendable {
    public let api: any KubeAPI
    /// Wherry's own namespace (`--namespace`, default `wherry-system`), created when missing at the first save.
    public let namespace: String
    public let fieldManager: String
    /// The Wherry instance whose inventories these are (label `wherry.dev/instance`, written on every save); `nil`:
    /// none (inventories are written without it).
    public let instance: String?
    /// Each service's repository URL (without credentials), written on its inventory as ``sourceAnnotation``.
    public let sources: [String: String]

    /// The default for `--namespace`.
    public static let defaultNamespace = "wherry-system"
    /// The label naming the service an inventory belongs to.
    public static let label = "wherry.dev/inventory"
    /// The label naming the Wherry instance an inventory belongs to.
    public static let instanceLabel = "wherry.dev/instance"
    /// The annotation saying a service is suspended at runtime (`wherry suspend`), with when (ISO 8601). Written by
    /// the field manager ``suspensionManager`` only, so the inventory's own applies never remove it.
    public static let suspendedAnnotation = "wherry.dev/suspended-at"
    /// The field manager of ``suspendedAnnotation``.
    public static let suspensionManager = "wherry-suspend"
    /// The annotation naming the repository (URL without credentials) a service's inventory was written from: a
    /// prune of an orphan from a repository the config does not use asks for `--adopt` (it may be another config's).
    public static let sourceAnnotation = "wherry.dev/repository"

    public init(
        api: any KubeAPI, namespace: String = defaultNamespace, fieldManager: String = "wherry",
        instance: String? = nil, sources: [String: String] = [:]
    ) {
        self.sources = sources
        self.api = api
        self.namespace = namespace
        self.fieldManager = fieldManager
        self.instance = instance.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `wherry-system/wherry-inventory-web`: where a service's inventory is, for messages.
    public func location(of service: String) -> String { namespace + "/" + Self.configMapName(service: service) }

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
    public func load(service: String) async throws(KubeAPIError) -> StoredInventory? {
        let configMap: JSONValue
        do {
            configMap = try await api.get(path(service))
        } catch  where error.isNotFound {
            return nil
        }
        return Self.stored(configMap)
    }

    /// Every stored inventory, by service name.
    public func loadAll() async throws(KubeAPIError) -> [String: StoredInventory] {
        let items: [JSONValue]
        do {
            items = try await api.list(collection, labelSelector: Self.label)
        } catch  where error.isNotFound {
            return [:]
        }
        var all: [String: StoredInventory] = [:]
        for item in items {
            if let service = item["data"]?["service"]?.stringValue, let stored = Self.stored(item) {
                all[service] = stored
            }
        }
        return all
    }

    /// Stores a service's inventory, creating Wherry's namespace when it is missing, and returns what is stored now.
    ///
    /// The write is conditional: it replaces exactly `replacing` (by resourceVersion), or creates the ConfigMap when
    /// `replacing` is `nil` or was never stored in the cluster. Another writer in between (a second leader, a hand
    /// edit) makes it fail with a conflict instead of losing that writer's entries; the caller reads again and
    /// retries.
    @discardableResult
    public func save(
        _ inventory: Inventory, service: String, revision: String, digest: String? = nil,
        pending: Inventory = Inventory(), replacing: StoredInventory?
    ) async throws(KubeAPIError) -> StoredInventory {
        var data: JSONObject = [
            "service": .string(service), "revision": .string(revision), "entries": .string(inventory.text),
        ]
        // Always written, empty for none: a key left out of an apply may stay (another field manager, such as the
        // create that made the ConfigMap, may own it), and a stale digest must never survive an intent write.
        data["digest"] = .string(digest ?? "")
        data["pending"] = .string(pending.text)
        var labels: JSONObject = [
            WherryLabels.managedBy: .string(WherryLabels.managedByValue), Self.label: .string(service),
        ]
        // Written on every save: an inventory of this config written before instances is adopted at its next save.
        if let instance { labels[Self.instanceLabel] = .string(instance) }
        var metadata: JSONObject = [
            "name": .string(Self.configMapName(service: service)), "namespace": .string(namespace),
            "labels": .object(labels),
        ]
        if let source = sources[service] { metadata["annotations"] = [Self.sourceAnnotation: .string(source)] }
        let stored: JSONValue
        if let resourceVersion = replacing?.resourceVersion {
            // Apply with the resourceVersion read: the server refuses it (409) when the ConfigMap changed meanwhile.
            metadata["resourceVersion"] = .string(resourceVersion)
            let configMap: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": .object(data),
            ]
            let options = ApplyOptions(fieldManager: fieldManager, force: true, dryRun: false)
            do {
                stored = try await api.apply(path(service), object: configMap, options: options).object
            } catch  where error.isNotFound {
                throw Self.changedMeanwhile(service, request: "PATCH \(path(service))")
            }
        } else {
            let configMap: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": .object(data),
            ]
            do {
                stored = try await create(configMap)
            } catch  where error.isNotFound {
                try await createNamespace()
                stored = try await create(configMap)
            }
        }
        return Self.stored(stored)
            ?? StoredInventory(
                inventory: inventory, revision: revision, digest: digest, pending: pending, resourceVersion: nil)
    }

    private func create(_ configMap: JSONValue) async throws(KubeAPIError) -> JSONValue {
        do {
            return try await api.create(collection, object: configMap, fieldManager: fieldManager)
        } catch  where error.code == 409 {
            // Created by another writer since it was read as missing.
            let name = configMap["metadata"]?["name"]?.stringValue ?? ""
            throw Self.changedMeanwhile(
                configMap["data"]?["service"]?.stringValue ?? name, request: "POST \(collection)")
        }
    }

    /// Wherry's namespace, created when it does not exist yet.
    private func createNamespace() async throws(KubeAPIError) {
        let namespaceObject: JSONValue = [
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": [
                "name": .string(namespace),
                "labels": [WherryLabels.managedBy: .string(WherryLabels.managedByValue)],
            ],
        ]
        do {
            _ = try await api.create("/api/v1/namespaces", object: namespaceObject, fieldManager: fieldManager)
        } catch  where error.code == 409 {
            // Made meanwhile: fine.
        }
    }

    /// Marks a service as suspended at runtime since `date` (an annotation on its inventory ConfigMap, which is
    /// created, empty, when the service was never applied), or no longer suspended (`date` nil). Survives a restart
    /// with an empty state directory and a change of leader.
    public func setSuspended(service: String, since date: String?) async throws(KubeAPIError) {
        for attempt in 1...5 {
            let current: JSONValue?
            do {
                current = try await api.get(path(service))
            } catch  where error.isNotFound {
                current = nil
            }
            guard var object = current?.objectValue else {
                guard let date else { return }
                var labels: JSONObject = [
                    WherryLabels.managedBy: .string(WherryLabels.managedByValue), Self.label: .string(service),
                ]
                if let instance { labels[Self.instanceLabel] = .string(instance) }
                let configMap: JSONValue = [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": [
                        "name": .string(Self.configMapName(service: service)), "namespace": .string(namespace),
                        "labels": .object(labels),
                        "annotations": [Self.suspendedAnnotation: .string(date)],
                    ],
                    "data": ["service": .string(service), "revision": "", "entries": "", "digest": "", "pending": ""],
                ]
                do {
                    do {
                        _ = try await api.create(collection, object: configMap, fieldManager: Self.suspensionManager)
                    } catch  where error.isNotFound {
                        try await createNamespace()
                        _ = try await api.create(collection, object: configMap, fieldManager: Self.suspensionManager)
                    }
                    return
                } catch  where error.code == 409 && attempt < 5 {
                    continue
                }
            }
            var metadata = object["metadata"]?.objectValue ?? [:]
            if let instance, let other = metadata["labels"]?[Self.instanceLabel]?.stringValue, other != instance {
                throw KubeAPIError(
                    code: 409, reason: "ForeignInstance",
                    message: "the inventory of service \(service) (ConfigMap \(location(of: service))) belongs to "
                        + "Wherry instance '\(other)', not to this config's instance '\(instance)': its suspension "
                        + "is not changed; rename the service in one of the configs, or use another --namespace for "
                        + "one", request: "GET \(path(service))")
            }
            var annotations = metadata["annotations"]?.objectValue ?? [:]
            if annotations[Self.suspendedAnnotation]?.stringValue == date { return }
            annotations[Self.suspendedAnnotation] = date.map(JSONValue.string)
            metadata["annotations"] = .object(annotations)
            metadata["managedFields"] = nil
            object["metadata"] = .object(metadata)
            do {
                // Conditional on the resourceVersion read: an inventory written meanwhile is read again.
                _ = try await api.update(path(service), object: .object(object), fieldManager: Self.suspensionManager)
                return
            } catch  where (error.code == 409 || error.isNotFound) && attempt < 5 {
                continue
            }
        }
    }

    /// The error for an inventory that another writer changed since it was read.
    static func changedMeanwhile(_ service: String, request: String) -> KubeAPIError {
        KubeAPIError(
            code: 409, reason: "Conflict",
            message: "the inventory of service \(service) was changed by another writer (another Wherry, a `wherry "
                + "sync` or `wherry prune`) since it was read, so it was not overwritten; the next attempt reads it "
                + "again", request: request)
    }

    /// Removes a service's stored inventory (after `wherry prune --service` emptied it).
    public func remove(service: String) async throws(KubeAPIError) {
        do {
            try await api.delete(path(service), options: DeleteOptions())
        } catch  where error.isNotFound {
            // Already gone.
        }
    }

    static func stored(_ configMap: JSONValue) -> StoredInventory? {
        guard configMap["metadata"]?["name"] != nil else { return nil }
        // A ConfigMap without entries (edited by hand) holds nothing, and is replaced conditionally like any other.
        let text = configMap["data"]?["entries"]?.stringValue ?? ""
        return StoredInventory(
            inventory: Inventory.parse(text).0, revision: configMap["data"]?["revision"]?.stringValue ?? "",
            digest: configMap["data"]?["digest"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            pending: Inventory.parse(configMap["data"]?["pending"]?.stringValue ?? "").0,
            resourceVersion: configMap["metadata"]?["resourceVersion"]?.stringValue,
            instance: configMap["metadata"]?["labels"]?[instanceLabel]?.stringValue,
            suspendedAt: configMap["metadata"]?["annotations"]?[suspendedAnnotation]?.stringValue,
            source: configMap["metadata"]?["annotations"]?[sourceAnnotation]?.stringValue)
    }
}

/// A service's inventory as stored in the cluster, with what it was written at.
public struct StoredInventory: Sendable, Hashable {
    public var inventory: Inventory
    /// The commit of the last write.
    public var revision: String
    /// The digest of everything the render read, recorded once that digest was applied and pruned completely;
    /// `nil` while an apply is under way (the intent was recorded, the outcome not yet).
    public var digest: String?
    /// Entries recorded by an intent whose apply has not completed: they may never have been written, so they do not
    /// count as what the service owns for the mass-prune safety valve (they are still pruned when Git drops them).
    public var pending: Inventory
    /// The ConfigMap's resourceVersion: the next write is conditional on it. `nil` when not stored in the cluster.
    public var resourceVersion: String?
    /// The Wherry instance it is labelled with; `nil` for one written before instances (or without one).
    public var instance: String?
    /// When the service was suspended at runtime (``ClusterInventory/suspendedAnnotation``), `nil` when it is not.
    public var suspendedAt: String?
    /// The repository it was written from (``ClusterInventory/sourceAnnotation``); `nil` when not recorded.
    public var source: String?

    public init(
        inventory: Inventory, revision: String = "", digest: String? = nil, pending: Inventory = Inventory(),
        resourceVersion: String? = nil, instance: String? = nil, suspendedAt: String? = nil, source: String? = nil
    ) {
        self.source = source
        self.instance = instance
        self.suspendedAt = suspendedAt
        self.inventory = inventory
        self.revision = revision
        self.digest = digest
        self.pending = pending
        self.resourceVersion = resourceVersion
    }
}
