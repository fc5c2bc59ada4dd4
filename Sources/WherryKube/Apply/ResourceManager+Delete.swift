public import WherryModel

extension ResourceManager {
    /// Deletes objects in the reverse of the apply order; an object that is already gone counts as deleted.
    public func delete(
        _ objects: [KubeObject], options: DeleteOptions, concurrency: Int = 8
    ) async throws(ApplyError)
        -> ChangeSet
    {
        try await preflight()
        var changes = ChangeSet()
        var failures: [PlanFailure] = []
        // One kind rank at a time, so dependents go before what they depend on.
        let groups = Dictionary(grouping: ApplyOrder.sortedForDeletion(objects)) { ApplyOrder.rank(of: $0.kind) }
        for rank in groups.keys.sorted(by: >) {
            let outcomes = await concurrentMap(groups[rank] ?? [], limit: concurrency) { object in
                await deleteOne(object, options: options)
            }
            let (entries, rankFailures) = Self.partition(outcomes)
            changes.entries += entries
            failures += rankFailures
        }
        try throwIfFailed(failures, step: .apply, applied: changes)
        return changes
    }

    private func deleteOne(_ object: KubeObject, options: DeleteOptions) async -> Result<ChangeSetEntry, PlanFailure> {
        do {
            let mapping = try await mapper.mapping(for: object)
            let namespace = mapping.namespaced ? object.namespace : nil
            do {
                try await api.delete(mapping.objectPath(namespace: namespace, name: object.name), options: options)
            } catch  where error.isNotFound {
                // Already gone: the goal is met.
            }
            return .success(ChangeSetEntry(ref: object.ref, action: .deleted))
        } catch {
            return .failure(PlanFailure(object: object, error: error))
        }
    }
}
