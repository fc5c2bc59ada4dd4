import Synchronization
import WherryKube
import WherryModel

/// What happened to one service in a sync of many.
public enum ServiceSyncOutcome: Sendable {
    case synced(SyncResult)
    case failed(SyncError)
    /// Not attempted; the reason says why (the cluster failed for an earlier service).
    case skipped(String)
}

extension ServiceSyncer {
    /// Renders every service (services on one repository share its `ls-remote` and fetch), then applies them,
    /// `servicesAtOnce` at a time, reading each collection of live objects once for all of them. A failure that
    /// concerns the whole cluster (unreachable, TLS, credentials refused) is reported by the service that met it,
    /// and the services not yet started are skipped instead of failing one by one. Outcomes keep the order of
    /// `services`; `finished` is called as each service ends.
    public func syncAll(
        _ services: [ServiceConfig], in config: WherryConfig, dryRun: Bool = false, allowMassPrune: Bool = false,
        noPrune: Bool = false, servicesAtOnce: Int = 4,
        finished: @escaping @Sendable (ServiceConfig, ServiceSyncOutcome) -> Void = { _, _ in }
    ) async -> [ServiceSyncOutcome] {
        let selector =
            services.count == 1 ? WherryLabels.serviceSelector(services[0].name) : WherryLabels.managedBySelector
        let cache = LiveObjectCache(api: manager.api, selector: selector)
        let clusterProblem = Mutex<String?>(nil)
        let rendered = await renderer.renderAll(services, in: config)
        let claims = ServiceClaims(
            config: config, syncer: self,
            known: Dictionary(zip(services.map(\.name), rendered), uniquingKeysWith: { first, _ in first }))
        var common = SyncOptions(dryRun: dryRun, liveCache: cache, allowMassPrune: allowMassPrune, claims: claims)
        common.noPrune = noPrune
        if services.count > 1 {
            // One LIST for every inventory; when it fails, each service reads its own (and reports the error).
            common.inventories = try? await inventories.loadAll()
        }
        let options = common
        var outcomes: [ServiceSyncOutcome?] = Array(repeating: nil, count: services.count)
        let graph = DependencyGraph(services: services)
        let position = Dictionary(services.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Services run in waves: a service starts once the services it depends on (among these) are done.
        for wave in graph.waves() {
            let done = outcomes
            let results = await concurrentMap(wave, limit: servicesAtOnce) { index in
                let service = services[index]
                let outcome: ServiceSyncOutcome
                if let failed = graph.firstUnmet(
                    of: service, known: { position[$0] != nil },
                    isReady: { name in
                        if case .synced? = done[position[name]!] { return true }
                        return false
                    })
                {
                    outcome = .skipped("not attempted: it depends on service \(failed), which did not sync")
                } else {
                    outcome = await syncOne(
                        service, rendering: rendered[index], options: options, clusterProblem: clusterProblem)
                }
                finished(service, outcome)
                return (index, outcome)
            }
            for (index, outcome) in results { outcomes[index] = outcome }
        }
        return outcomes.map { $0 ?? .skipped("not attempted") }
    }

    private func syncOne(
        _ service: ServiceConfig, rendering: Result<RenderedService, ServiceRenderError>, options: SyncOptions,
        clusterProblem: borrowing Mutex<String?>
    ) async -> ServiceSyncOutcome {
        let skipped = ServiceSyncOutcome.skipped("not attempted: the cluster failed (see above)")
        var outcome: ServiceSyncOutcome
        if clusterProblem.withLock({ $0 }) != nil {
            outcome = skipped
        } else {
            switch rendering {
            case .failure(let error): outcome = .failed(.render(error))
            case .success(let rendered):
                outcome = await applyOutcome(rendered, options: options)
                if case .failed(let error) = outcome, let problem = error.clusterProblem {
                    // Only the first service to meet it reports it; the others say they were skipped.
                    let first = clusterProblem.withLock { current in
                        defer { current = current ?? problem }
                        return current == nil
                    }
                    if !first { outcome = skipped }
                }
            }
        }
        return outcome
    }

    private func applyOutcome(_ rendered: RenderedService, options: SyncOptions) async -> ServiceSyncOutcome {
        do {
            return .synced(try await apply(rendered, options: options))
        } catch {
            // As the controller's reconciles do: a server message quoting a decrypted value never reaches the output.
            return .failed(error.redacting(rendered.plaintextValues))
        }
    }
}
