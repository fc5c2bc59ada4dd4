public import WherryKube
public import WherryModel

extension ServiceSyncer {
    /// Prunes what left a service's Git, except objects another service now holds (moved, not removed) and, while
    /// some service cannot be rendered, everything (that service might hold it now; it is retried later).
    /// `service` may be one no longer configured (`wherry prune --service`): the same checks apply.
    public func prune(
        _ candidates: [InventoryEntry], service: String, propagation: DeleteOptions.Propagation, dryRun: Bool,
        claims: ServiceClaims?
    ) async -> PruneResult {
        var result = PruneResult()
        guard !candidates.isEmpty else { return result }
        var toPrune = candidates
        if let claims {
            let (owners, unrendered) = await claims.claims(on: candidates, except: service)
            toPrune = []
            for entry in candidates {
                if let owner = owners[entry.ref] {
                    result.changes.entries.append(
                        ChangeSetEntry(ref: entry.ref, action: .kept, note: "moved to service \(owner)"))
                } else if !unrendered.isEmpty {
                    // Not pruned, and not done either: the sync fails (transient) so it is tried again, and the
                    // apply is not recorded as complete.
                    let names = unrendered.prefix(3).joined(separator: ", ")
                    result.failures.append(
                        ObjectFailure(
                            ref: entry.ref,
                            message: "not pruned yet: service \(names) could not be rendered and may hold it now; "
                                + "it is tried again", reason: "Deferred", isTransient: true))
                    result.retained.append(entry)
                } else {
                    toPrune.append(entry)
                }
            }
        }
        let pruned = await manager.prune(
            toPrune,
            options: PruneOptions(
                service: service, propagation: propagation, dryRun: dryRun,
                concurrency: min(concurrency, 16)))
        result.changes.entries += pruned.changes.entries
        result.retained += pruned.retained
        result.failures += pruned.failures
        for entry in result.changes.entries {
            logger.notice(
                entry.action == .deleted ? "Pruned object" : "Kept object that left Git",
                metadata: [
                    "wherry.service": "\(service)", "k8s.object": "\(entry.ref)",
                    "wherry.note": "\(entry.note ?? "")", "wherry.dry_run": "\(dryRun)",
                ])
        }
        return result
    }
}
