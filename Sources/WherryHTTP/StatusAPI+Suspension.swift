import Hummingbird
import WherryController
import WherryModel

/// `POST /v1/gitops/services/{name}/suspend` and `.../resume`: runtime suspension, with the API token like a manual
/// sync. Both answer `{service, suspended, suspended_by, changed}`; resuming a service the config suspends is 409.
extension StatusAPI {
    func registerSuspension(on router: Router<BasicRequestContext>) {
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
