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
        _ services: [ServiceConfig], in config: WherryConfig, dryRun: Bool = false, servicesAtOnce: Int = 4,
        finished: @escaping @Sendable (ServiceConfig, ServiceSyncOutcome) -> Void = { _, _ in }
    ) async -> [ServiceSyncOutcome] {
        let selector =
            services.count == 1 ? WherryLabels.serviceSelector(services[0].name) : WherryLabels.managedBySelector
        let cache = LiveObjectCache(api: manager.api, selector: selector)
        let clusterProblem = Mutex<String?>(nil)
        let rendered = await renderer.renderAll(services, in: config)
        return await concurrentMap(Array(zip(services, rendered)), limit: servicesAtOnce) { service, rendering in
            let skipped = ServiceSyncOutcome.skipped("not attempted: the cluster failed (see above)")
            var outcome: ServiceSyncOutcome
            if clusterProblem.withLock({ $0 }) != nil {
                outcome = skipped
            } else {
                switch rendering {
                case .failure(let error): outcome = .failed(.render(error))
                case .success(let rendered):
                    outcome = await applyOutcome(rendered, dryRun: dryRun, cache: cache)
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
            finished(service, outcome)
            return outcome
        }
    }

    private func applyOutcome(
        _ rendered: RenderedService, dryRun: Bool, cache: LiveObjectCache
    ) async
        -> ServiceSyncOutcome
    {
        do {
            return .synced(try await apply(rendered, dryRun: dryRun, liveCache: cache))
        } catch {
            return .failed(error)
        }
    }
}
