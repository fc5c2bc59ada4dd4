public import WherryKube
public import WherryModel

/// Which service's Git holds each object now, so that an object moved from one service to another is never pruned
/// by the service it left (whichever of the two is applied first).
///
/// Renders the configured services once, lazily: a reconcile that prunes nothing never pays for it. A service that
/// cannot be rendered is reported, so that objects it might hold are kept until it can.
public actor ServiceClaims {
    private let config: WherryConfig
    private let syncer: ServiceSyncer
    private var known: [String: Result<RenderedService, ServiceRenderError>]
    private var owners: [ObjectRef: String]?
    private var unrendered: [String] = []

    /// `known` holds renders already made (a sync of many services renders them all first).
    public init(
        config: WherryConfig, syncer: ServiceSyncer, known: [String: Result<RenderedService, ServiceRenderError>] = [:]
    ) {
        self.config = config
        self.syncer = syncer
        self.known = known
    }

    /// For objects `service` would prune: the other service now holding each (if any), and the services that could
    /// not be rendered (any of them might hold the rest).
    public func claims(
        on entries: [InventoryEntry], except service: String
    ) async -> (owners: [ObjectRef: String], unrendered: [String]) {
        let owners = await allOwners()
        var claimed: [ObjectRef: String] = [:]
        for entry in entries {
            if let owner = owners[entry.ref], owner != service { claimed[entry.ref] = owner }
        }
        return (claimed, unrendered.filter { $0 != service })
    }

    private func allOwners() async -> [ObjectRef: String] {
        if let owners { return owners }
        let missing = config.services.filter { known[$0.name] == nil }
        if !missing.isEmpty {
            let renders = await syncer.renderer.renderAll(missing, in: config)
            for (service, render) in zip(missing, renders) { known[service.name] = render }
        }
        var owners: [ObjectRef: String] = [:]
        for service in config.services {
            switch known[service.name] {
            case .success(let rendered)?:
                guard let inventory = try? await syncer.inventory(of: rendered) else {
                    // Some kind's scope is unknown: what it holds is unknown too.
                    unrendered.append(service.name)
                    continue
                }
                for entry in inventory.entries { owners[entry.ref] = service.name }
            case .failure?, nil:
                unrendered.append(service.name)
            }
        }
        self.owners = owners
        return owners
    }
}
