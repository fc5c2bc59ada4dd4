public import WherryModel

/// How one object differs between the cluster and Git.
public struct ObjectDiff: Sendable, Hashable {
    public var ref: ObjectRef
    /// The action a sync would take.
    public var action: ApplyAction
    /// The live object without server-owned fields; `nil` when it does not exist.
    public var live: JSONValue?
    /// The object as the server would store it after applying Git's version, without server-owned fields.
    public var desired: JSONValue
}

extension ResourceManager {
    /// Compares every object with the cluster by a server-side dry run; writes nothing.
    /// Server-owned fields (managedFields, resourceVersion, generation, uid, creationTimestamp, status) are ignored.
    public func diff(_ objects: [KubeObject], options: ApplySetOptions) async throws(ApplyError) -> [ObjectDiff] {
        do {
            return try await diffUnlocated(objects, options: options)
        } catch {
            throw error.locating(objects)
        }
    }

    private func diffUnlocated(
        _ objects: [KubeObject], options: ApplySetOptions
    ) async throws(ApplyError) -> [ObjectDiff] {
        try await preflight()
        let outcomes = await concurrentMap(ApplyOrder.sorted(objects), limit: options.concurrency) {
            object in
            await diffOne(object, options: options)
        }
        let (diffs, failures) = Self.partition(outcomes)
        try throwIfFailed(failures, step: .validation, applied: ChangeSet())
        return diffs
    }

    private func diffOne(_ object: KubeObject, options: ApplySetOptions) async -> Result<ObjectDiff, PlanFailure> {
        do {
            let (object, mapping) = try await place(object, defaultNamespace: options.defaultNamespace)
            let path = mapping.objectPath(namespace: object.namespace, name: object.name)
            var live: JSONValue?
            do {
                live = try await api.get(path)
            } catch  where error.isNotFound {
                live = nil
            }
            // As a sync applies it: without the fields left to others, unless it is created.
            let pointers = options.ignoredPointers(object.ref)
            let sent = live == nil ? object : Self.removing(pointers, from: object)
            let desired: JSONValue
            do {
                desired = try await api.apply(
                    path, object: .object(sent.body),
                    options: ApplyOptions(fieldManager: fieldManager, force: options.force, dryRun: true)
                ).object
            } catch  where error.isNotFound || error.reason == "NoKindMatch" {
                // Its Namespace or CRD is created by the same sync: the best preview is Git's version.
                desired = .object(object.body)
            }
            let comparableLive = live.map(Self.comparable)
            let comparableDesired = Self.comparable(desired)
            let action: ApplyAction =
                if object.annotations[WherryLabels.ssa]?.lowercased() == "ignore" {
                    .skipped
                } else if let live {
                    OwnedFields.sameOwnedState(live, desired, manager: fieldManager) ? .unchanged : .configured
                } else {
                    .created
                }
            return .success(
                ObjectDiff(ref: object.ref, action: action, live: comparableLive, desired: comparableDesired))
        } catch {
            return .failure(PlanFailure(object: object, error: error))
        }
    }
}
