public import WherryModel

extension ResourceManager {
    /// Deletes a service's objects in the reverse of the apply order. Only an object that still carries Wherry's
    /// labels for `service` is deleted, and only the very object that was checked (its uid is a precondition), so an
    /// object someone else created or took over meanwhile stays (`kept`, with the reason). An object already gone
    /// counts as deleted. Pruning (``prune(_:options:)``) adds Namespace and `wherry.dev/prune` checks on top.
    public func delete(
        _ objects: [KubeObject], service: String, options: DeleteOptions, concurrency: Int = 8
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
                await deleteOne(object, service: service, options: options)
            }
            let (entries, rankFailures) = Self.partition(outcomes)
            changes.entries += entries
            failures += rankFailures
        }
        try throwIfFailed(failures, step: .apply, applied: changes)
        return changes
    }

    private func deleteOne(
        _ object: KubeObject, service: String, options: DeleteOptions
    ) async -> Result<ChangeSetEntry, PlanFailure> {
        do {
            let mapping = try await mapper.mapping(for: object)
            let path = mapping.objectPath(namespace: mapping.namespaced ? object.namespace : nil, name: object.name)
            let live: JSONValue
            do {
                live = try await api.get(path)
            } catch  where error.isNotFound {
                return .success(ChangeSetEntry(ref: object.ref, action: .deleted, note: "already gone"))
            }
            let labels = live["metadata"]?["labels"]
            let owner = labels?[WherryLabels.service]?.stringValue
            guard labels?[WherryLabels.managedBy]?.stringValue == WherryLabels.managedByValue, owner == service else {
                let now = owner.map { "it belongs to service \($0)" } ?? "it does not carry Wherry's labels"
                return .success(ChangeSetEntry(ref: object.ref, action: .kept, note: "\(now); not deleted"))
            }
            var checked = options
            checked.preconditionUID = live["metadata"]?["uid"]?.stringValue
            do {
                try await api.delete(path, options: checked)
            } catch  where error.isNotFound {
                return .success(ChangeSetEntry(ref: object.ref, action: .deleted, note: "already gone"))
            }
            return .success(ChangeSetEntry(ref: object.ref, action: .deleted))
        } catch {
            return .failure(PlanFailure(object: object, error: error))
        }
    }
}
