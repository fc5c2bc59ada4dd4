import Hummingbird
import WherryController
import WherryModel

/// Control of a running controller: `POST /v1/gitops/services/{name}/suspend` and `.../resume` (runtime suspension,
/// with the API token like a manual sync; both answer `{service, suspended, suspended_by, changed}`; resuming a
/// service the config suspends is 409), and `GET /v1/gitops/services/{name}/health` (the live health of the objects
/// of its inventory, for `wherry wait --health`).
extension StatusAPI {
    func registerControl(on router: Router<BasicRequestContext>) {
        router.get("/v1/gitops/services/:name/health") { _, context in
            await health(context.parameters.get("name") ?? "")
        }
        router.post("/v1/gitops/services/:name/suspend") { request, context in
            await changeSuspension(request, name: context.parameters.get("name") ?? "", suspend: true)
        }
        router.post("/v1/gitops/services/:name/resume") { request, context in
            await changeSuspension(request, name: context.parameters.get("name") ?? "", suspend: false)
        }
    }

    private func changeSuspension(_ request: Request, name: String, suspend: Bool) async -> Response {
        if let refused = authorize(request) { return refused }
        guard config.service(named: name) != nil else { return unknown(name) }
        if let elector, !elector.isLeader { return Self.notLeader(elector) }
        let changed: Bool
        do {
            changed = suspend ? try await loop.suspend(service: name) : try await loop.resume(service: name)
        } catch {
            switch error {
            case .unknownService: return unknown(name)
            case .suspendedByConfig: return Self.error(.conflict, error.description)
            case .notRecorded: return Self.error(.serviceUnavailable, error.description)
            }
        }
        let suspension = loop.suspension(of: name)
        return Self.json([
            "service": .string(name), "suspended": .bool(suspension != nil),
            "suspended_by": suspension.map { .string($0.by.rawValue) } ?? .null, "changed": .bool(changed),
        ])
    }
}

extension StatusAPI {
    /// `{service, healthy, objects: [{kind, namespace, name, health, reason?}], error?}`: every object of the
    /// service's inventory that has a health check; `healthy` only when each of them is.
    private func health(_ name: String) async -> Response {
        guard config.service(named: name) != nil else { return unknown(name) }
        let inventory: Inventory
        do {
            inventory = try await loop.reconciler.syncer.inventories.load(service: name).inventory
        } catch {
            return Self.error(.serviceUnavailable, "cannot read the inventory of service \(name): \(error)")
        }
        guard let dashboard, dashboard.health != nil else {
            return Self.error(.serviceUnavailable, "live health is not available without a cluster connection")
        }
        let (report, note) = await dashboard.liveHealth(inventory.entries)
        if let note { return Self.error(.serviceUnavailable, note) }
        var healthy = true
        let objects: [JSONValue] = report.sorted { $0.key.description < $1.key.description }.map { ref, result in
            var object: JSONObject = [
                "kind": .string(ref.kind), "namespace": ref.namespace.isEmpty ? .null : .string(ref.namespace),
                "name": .string(ref.name),
            ]
            switch result {
            case .success(.healthy):
                object["health"] = "healthy"
            case .success(let health):
                healthy = false
                object["health"] = .string(health.description.split(separator: ":").first.map(String.init) ?? "")
                object["reason"] = .string(health.description)
            case .failure(let error):
                healthy = false
                object["health"] = "unknown"
                object["reason"] = .string(error.message)
            }
            return .object(object)
        }
        return Self.json([
            "service": .string(name), "healthy": .bool(healthy), "objects": .array(objects),
            "checked": .int(Int64(objects.count)),
        ])
    }
}
