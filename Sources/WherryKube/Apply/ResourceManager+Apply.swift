public import WherryModel

/// How a set of objects is applied.
public struct ApplySetOptions: Sendable {
    /// Namespace for namespaced objects that name none.
    public var defaultNamespace: String
    /// Label selector that finds the live objects of this set in one LIST per kind and namespace
    /// (`wherry.dev/service=<name>`); objects not found that way are still handled correctly, one by one.
    public var liveSelector: String?
    /// Objects written at once within a stage.
    public var concurrency: Int
    /// Validate and compare only; write nothing.
    public var dryRun: Bool
    /// Take fields from other field managers (Git wins).
    public var force: Bool
    /// How long to wait for CustomResourceDefinitions and Namespaces to become ready.
    public var waitTimeout: Duration

    public init(
        defaultNamespace: String = "default", liveSelector: String? = nil, concurrency: Int = 8, dryRun: Bool = false,
        force: Bool = true, waitTimeout: Duration = .seconds(60)
    ) {
        self.defaultNamespace = defaultNamespace
        self.liveSelector = liveSelector
        self.concurrency = concurrency
        self.dryRun = dryRun
        self.force = force
        self.waitTimeout = waitTimeout
    }
}

/// An object that could not be planned, as far as it got (namespace settled when its kind was known).
struct PlanFailure: Error {
    var object: KubeObject
    var error: KubeAPIError
}

/// An object ready to apply: namespace settled, resource known, dry-run answer in hand.
struct PlannedObject: Sendable {
    var object: KubeObject
    var mapping: ResourceMapping
    var dryRun: JSONValue

    var path: String { mapping.objectPath(namespace: object.namespace, name: object.name) }
}

extension ResourceManager {
    /// Applies objects as one unit: every object is validated by a server-side dry run first, and if any is
    /// invalid nothing is written. CustomResourceDefinitions, Namespaces and ClusterRoles go first and are waited
    /// for; the rest follow in kind order, `concurrency` at a time. Objects equal to the live state are not
    /// written, so their resourceVersion stays.
    public func apply(_ objects: [KubeObject], options: ApplySetOptions) async throws(ApplyError) -> ChangeSet {
        let sorted = ApplyOrder.sorted(objects)
        let definedKinds = Self.kindsDefinedByCRDs(in: sorted)
        let createdNamespaces = Set(sorted.filter { $0.kind == "Namespace" && $0.apiVersion == "v1" }.map(\.name))

        // Validate everything that can be validated now. Custom resources of CRDs in this set, and objects in
        // Namespaces this set creates, can only be checked once those exist: they are validated after stage one.
        let (ready, waiting) = try await plan(
            sorted, options: options,
            deferrable: { object, error in
                definedKinds.contains(object.groupVersionKind)
                    || (error.isNotFound && createdNamespaces.contains(object.namespace))
            })
        var changes = ChangeSet()
        let first = ready.filter { ApplyOrder.firstStageKinds.contains($0.object.kind) }
        let rest = ready.filter { !ApplyOrder.firstStageKinds.contains($0.object.kind) }
        changes.entries += try await write(first, options: options, before: changes)
        if !options.dryRun, !first.isEmpty {
            try await waitUntilReady(first.map(\.object), timeout: options.waitTimeout, applied: changes)
            if first.contains(where: { $0.object.kind == "CustomResourceDefinition" }) { await mapper.invalidate() }
        }
        var later = rest
        if !waiting.isEmpty {
            if options.dryRun {
                // Their CRD or Namespace does not exist yet, so the server cannot check them without applying.
                changes.entries += waiting.map { ChangeSetEntry(ref: $0.ref, action: .created) }
            } else {
                let (checked, stillWaiting) = try await plan(
                    waiting, options: options, deferrable: { _, _ in false }, applied: changes)
                precondition(stillWaiting.isEmpty)
                later = (rest + checked).sorted { ApplyOrder.precedes($0.object, $1.object) }
            }
        }
        changes.entries += try await write(later, options: options, before: changes)
        return changes
    }

    /// Maps, defaults namespaces and dry-runs objects; reports every invalid object at once.
    private func plan(
        _ objects: [KubeObject], options: ApplySetOptions,
        deferrable: @escaping @Sendable (KubeObject, KubeAPIError) -> Bool, applied: ChangeSet = ChangeSet()
    ) async throws(ApplyError) -> (ready: [PlannedObject], deferred: [KubeObject]) {
        let dryRunOptions = ApplyOptions(fieldManager: fieldManager, force: options.force, dryRun: true)
        let outcomes = await concurrentMap(objects, limit: options.concurrency) { object in
            await planOne(object, options: options, dryRunOptions: dryRunOptions)
        }
        var ready: [PlannedObject] = []
        var deferred: [KubeObject] = []
        var failures: [ObjectFailure] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let planned): ready.append(planned)
            case .failure(let failure) where deferrable(failure.object, failure.error): deferred.append(failure.object)
            case .failure(let failure):
                failures.append(ObjectFailure(ref: failure.object.ref, message: Self.message(failure.error)))
            }
        }
        guard failures.isEmpty else { throw ApplyError(step: .validation, failures: failures, applied: applied) }
        return (ready, deferred)
    }

    /// Writes planned objects that differ from the live state, `concurrency` at a time.
    private func write(
        _ planned: [PlannedObject], options: ApplySetOptions, before: ChangeSet
    ) async throws(ApplyError)
        -> [ChangeSetEntry]
    {
        guard !planned.isEmpty else { return [] }
        let live = await liveObjects(planned, selector: options.liveSelector, concurrency: options.concurrency)
        let applyOptions = ApplyOptions(fieldManager: fieldManager, force: options.force, dryRun: false)
        let outcomes = await concurrentMap(planned, limit: options.concurrency) { item in
            await writeOne(item, live: live[item.object.ref], options: applyOptions, dryRunOnly: options.dryRun)
        }
        let (entries, failures) = Self.partition(outcomes)
        guard failures.isEmpty else {
            throw ApplyError(step: .apply, failures: failures, applied: ChangeSet(entries: before.entries + entries))
        }
        return entries
    }

    // Typed-throw `do` blocks stay in methods: inside task-group closures a release build trapped on them.
    private func planOne(
        _ object: KubeObject, options: ApplySetOptions, dryRunOptions: ApplyOptions
    ) async
        -> Result<PlannedObject, PlanFailure>
    {
        var object = object
        do {
            let (placed, mapping) = try await place(object, defaultNamespace: options.defaultNamespace)
            object = placed
            let path = mapping.objectPath(namespace: object.namespace, name: object.name)
            let answer = try await api.apply(path, object: .object(object.body), options: dryRunOptions)
            return .success(PlannedObject(object: object, mapping: mapping, dryRun: answer.object))
        } catch {
            // The object as planned (namespace settled), so errors name it as it would be applied.
            return .failure(PlanFailure(object: object, error: error))
        }
    }

    private func writeOne(
        _ item: PlannedObject, live: JSONValue?, options: ApplyOptions, dryRunOnly: Bool
    ) async
        -> Result<ChangeSetEntry, ObjectFailure>
    {
        do {
            let action = try await applyOne(item, live: live, options: options, dryRunOnly: dryRunOnly)
            return .success(ChangeSetEntry(ref: item.object.ref, action: action))
        } catch {
            return .failure(ObjectFailure(ref: item.object.ref, message: Self.message(error)))
        }
    }

    /// Decides and, when needed, writes one object.
    private func applyOne(
        _ item: PlannedObject, live: JSONValue?, options: ApplyOptions, dryRunOnly: Bool
    )
        async throws(KubeAPIError) -> ApplyAction
    {
        let policy = item.object.annotations[WherryLabels.ssa]?.lowercased()
        if policy == "ignore" { return .skipped }
        var live = live
        if live == nil, dryRunOnly || policy == "if-not-present" {
            // Not found by the selector; ask for it by name to know whether it exists.
            do {
                live = try await api.get(item.path)
            } catch  where error.isNotFound {
                live = nil
            }
        }
        if let live {
            if policy == "if-not-present" { return .skipped }
            if Self.sameState(live, item.dryRun) { return .unchanged }
            if dryRunOnly { return .configured }
        } else if dryRunOnly {
            return .created
        }
        let answer = try await api.apply(item.path, object: .object(item.object.body), options: options)
        if answer.created { return .created }
        if live != nil { return .configured }
        // Found neither by selector nor by name: an unchanged resourceVersion means nothing was written.
        let before = item.dryRun["metadata"]?["resourceVersion"]
        return before != nil && answer.object["metadata"]?["resourceVersion"] == before ? .unchanged : .configured
    }

    /// Live objects found with one LIST per resource and namespace, keyed by reference.
    private func liveObjects(
        _ planned: [PlannedObject], selector: String?, concurrency: Int
    ) async
        -> [ObjectRef: JSONValue]
    {
        guard let selector else { return [:] }
        let collections = Array(Set(planned.map { $0.mapping.collectionPath(namespace: $0.object.namespace) }))
        let api = self.api
        let lists = await concurrentMap(collections, limit: concurrency) { path in
            // A failed LIST only costs speed: those objects are then checked one by one.
            (try? await api.list(path, labelSelector: selector)) ?? []
        }
        // LIST items carry no apiVersion or kind, so they are keyed by collection path and name.
        var byKey: [String: JSONValue] = [:]
        for (path, items) in zip(collections, lists) {
            for item in items {
                if let name = item["metadata"]?["name"]?.stringValue { byKey["\(path)/\(name)"] = item }
            }
        }
        var live: [ObjectRef: JSONValue] = [:]
        for item in planned {
            guard let candidate = byKey[item.path] else { continue }
            // The dry run of an existing object answers with that object's uid; anything else is not it.
            if let uid = candidate["metadata"]?["uid"], uid == item.dryRun["metadata"]?["uid"] {
                live[item.object.ref] = candidate
            }
        }
        return live
    }

    /// The group, version and kind each CustomResourceDefinition in the set defines.
    static func kindsDefinedByCRDs(in objects: [KubeObject]) -> Set<GroupVersionKind> {
        var kinds: Set<GroupVersionKind> = []
        for crd in objects where crd.kind == "CustomResourceDefinition" {
            guard let spec = crd.body["spec"], let group = spec["group"]?.stringValue,
                let kind = spec["names"]?["kind"]?.stringValue
            else { continue }
            for version in spec["versions"]?.arrayValue ?? [] {
                if let name = version["name"]?.stringValue {
                    kinds.insert(GroupVersionKind(group: group, version: name, kind: kind))
                }
            }
        }
        return kinds
    }

    /// The server's message with its field causes.
    static func message(_ error: KubeAPIError) -> String {
        var copy = error
        copy.object = nil
        return copy.description
    }
}
