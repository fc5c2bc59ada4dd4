import Foundation
import Hummingbird
import WherryController
import WherryKube
import WherryModel

/// `GET /v1/gitops/services/{name}/resources`: the objects of a service's inventory with their live state, for
/// `wherry tree` and `wherry status SERVICE`.
extension StatusAPI {
    /// At most this many objects are read (one GET each), ``resourceConcurrency`` at a time.
    static let resourceLimit = 500
    static let resourceConcurrency = 16

    /// Adds the route.
    func registerResources(on router: Router<BasicRequestContext>) {
        router.get("/v1/gitops/services/:name/resources") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard config.services.contains(where: { $0.name == name }) else {
                return Self.error(.notFound, "no service named '\(name)' in \(config.file)")
            }
            return Self.json(await resources(of: name))
        }
    }

    /// `{service, revision, objects: [{kind, group, api_version, namespace, name, action, health, reason?, owners,
    /// error?}], counts, truncated}`. `action` is `present` or `missing`; `health` is `healthy`, `progressing`,
    /// `degraded`, `none` (its kind has no health check), `missing` or `unknown` (it could not be read: `error`).
    func resources(of service: String) async -> JSONValue {
        let syncer = loop.reconciler.syncer
        let stored: StoredInventory
        var note: String?
        do {
            // Straight from the cluster: a request must never change what the reconciler remembers of inventories.
            if let inCluster = try await syncer.inventories.cluster.load(service: service) {
                stored = inCluster
            } else {
                stored = StoredInventory(inventory: (try? await store.inventory(of: service)) ?? Inventory())
            }
        } catch {
            // The cluster's inventory cannot be read: the store's copy still says what was applied.
            stored = StoredInventory(inventory: (try? await store.inventory(of: service)) ?? Inventory())
            note = "the inventory could not be read from the cluster (\(error.message)); this is the stored copy"
        }
        let entries = stored.inventory.entries.sorted()
        let live = await syncer.manager.liveState(
            of: entries, limit: Self.resourceLimit, concurrency: Self.resourceConcurrency)
        let healthKeys = ["healthy", "progressing", "degraded", "none", "missing", "unknown"]
        var counts: [String: Int] = [:]
        let objects: [JSONValue] = entries.prefix(Self.resourceLimit).map { entry in
            var object: JSONObject = [
                "kind": .string(entry.ref.kind), "group": .string(entry.ref.group),
                "api_version": .string(entry.apiVersion),
                "namespace": entry.ref.namespace.isEmpty ? .null : .string(entry.ref.namespace),
                "name": .string(entry.ref.name), "owners": [],
            ]
            let health: String
            switch live[entry.ref] {
            case .success(let state)?:
                object["action"] = "present"
                object["owners"] = .array(state.owners.map(JSONValue.string))
                switch state.health {
                case nil: health = "none"
                case .healthy?: health = "healthy"
                case .progressing(let reason)?:
                    health = "progressing"
                    object["reason"] = .string(reason)
                case .degraded(let reason)?:
                    health = "degraded"
                    object["reason"] = .string(reason)
                }
            case .failure(let error)? where error.isNotFound:
                object["action"] = "missing"
                health = "missing"
            case .failure(let error)?:
                object["action"] = "unknown"
                object["error"] = .string(error.message)
                health = "unknown"
            case nil:
                object["action"] = "unknown"
                health = "unknown"
            }
            object["health"] = .string(health)
            counts[health, default: 0] += 1
            return .object(object)
        }
        var answer: JSONObject = [
            "service": .string(service), "revision": stored.revision.isEmpty ? .null : .string(stored.revision),
            "objects": .array(objects),
            "counts": .object(JSONObject(healthKeys.map { ($0, JSONValue.int(Int64(counts[$0] ?? 0))) })),
            "truncated": .bool(entries.count > Self.resourceLimit),
        ]
        if let note { answer["note"] = .string(note) }
        return .object(answer)
    }
}
