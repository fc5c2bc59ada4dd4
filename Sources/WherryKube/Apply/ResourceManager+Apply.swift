import Logging
public import WherryModel

/// How a set of objects is applied.
public struct ApplySetOptions: Sendable {
    /// Requests in flight at once per apply stage: what a real API server on two cores takes at full speed.
    public static let defaultConcurrency = 32

    /// Namespace for namespaced objects that name none.
    public var defaultNamespace: String
    /// Label selector that finds the live objects of this set in one LIST per kind and namespace
    /// (`wherry.dev/service=<name>`); objects not found that way are still handled correctly, one by one.
    /// Ignored when ``liveCache`` is set.
    public var liveSelector: String?
    /// Live objects shared between the applies of one sync (several services listing each collection once).
    public var liveCache: LiveObjectCache?
    /// Objects written at once within a stage.
    public var concurrency: Int
    /// Validate and compare only; write nothing.
    public var dryRun: Bool
    /// Take fields from other field managers (Git wins).
    public var force: Bool
    /// How long to wait for CustomResourceDefinitions and Namespaces to become ready.
    public var waitTimeout: Duration
    /// JSON pointers of fields left to other controllers, per object (`ignore_differences`): Wherry neither owns nor
    /// corrects them. A new object is created with Git's values (a Deployment starts with Git's replicas, and a
    /// required field can be ignored), and then handed over at once (see ``ResourceManager/fieldHandoverSuffix``),
    /// so a later apply that leaves them out never resets them.
    public var ignoredPointers: @Sendable (ObjectRef) -> [String] = { _ in [] }
    /// A drift check: these objects were all applied before, unchanged since. An object whose live copy (from the
    /// shared LIST) still has Wherry's apply entry and every field and value Git sets is unchanged without a
    /// request; only the others are dry-run and, when they differ, written.
    public var driftCheck = false

    public init(
        defaultNamespace: String = "default", liveSelector: String? = nil, liveCache: LiveObjectCache? = nil,
        concurrency: Int = defaultConcurrency, dryRun: Bool = false, force: Bool = true,
        waitTimeout: Duration = .seconds(60)
    ) {
        self.defaultNamespace = defaultNamespace
        self.liveSelector = liveSelector
        self.liveCache = liveCache
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
    /// The dry run created the object: it does not exist yet.
    var created: Bool
    /// JSON pointers of the fields left to others (`ignore_differences`); `object` holds them only when created.
    var ignored: [String] = []

    var path: String { mapping.objectPath(namespace: object.namespace, name: object.name) }
}

/// Logs, at debug level, how long each phase of an apply took: where a slow sync spends its time.
struct PhaseClock {
    let logger: Logger
    var last = ContinuousClock.now

    mutating func lap(_ phase: String, objects: Int) {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        let milliseconds = elapsed.inMilliseconds
        logger.debug(
            "Apply phase done",
            metadata: [
                "wherry.phase": "\(phase)", "wherry.objects": "\(objects)", "wherry.duration_ms": "\(milliseconds)",
            ])
    }
}

/// What planning a list of objects found.
struct Plan {
    var ready: [PlannedObject] = []
    /// Objects that can only be validated once the first stage exists.
    var deferred: [KubeObject] = []
    var failures: [PlanFailure] = []
}

extension ResourceManager {
    /// Applies objects as one unit: every object is validated by a server-side dry run first, and if any is
    /// invalid nothing is written. CustomResourceDefinitions, Namespaces and ClusterRoles go first and are waited
    /// for; the rest follow in kind order, `concurrency` at a time. Objects whose fields owned by Wherry already hold
    /// what Git says are not written, so their resourceVersion stays, whatever other controllers write meanwhile.
    public func apply(_ objects: [KubeObject], options: ApplySetOptions) async throws(ApplyError) -> ChangeSet {
        do {
            return try await applyUnlocated(objects, options: options)
        } catch {
            throw error.locating(objects)
        }
    }

    private func applyUnlocated(
        _ objects: [KubeObject], options: ApplySetOptions
    ) async throws(ApplyError) -> ChangeSet {
        var clock = PhaseClock(logger: logger)
        try await preflight()
        clock.lap("discovery", objects: 0)
        var sorted = ApplyOrder.sorted(objects)
        let live = options.liveCache ?? options.liveSelector.map { LiveObjectCache(api: api, selector: $0) }
        var unchangedByLive: [ChangeSetEntry] = []
        if options.driftCheck, let live {
            (unchangedByLive, sorted) = await splitUnchanged(sorted, options: options, live: live)
            clock.lap("compare with live objects", objects: unchangedByLive.count)
        }
        let firstObjects = sorted.filter { ApplyOrder.firstStageKinds.contains($0.kind) }
        let restObjects = sorted.filter { !ApplyOrder.firstStageKinds.contains($0.kind) }

        // Stage one is validated first: its dry runs tell which Namespaces and CRDs this set creates. Objects in
        // those Namespaces and of those kinds cannot be validated before stage one is written, so they wait
        // without spending a request; so do objects whose CRD exists but whose version is not served yet.
        let firstPlan = await plan(firstObjects, options: options)
        clock.lap("validate first stage", objects: firstObjects.count)
        // Not yet there: created by this set, or failed to plan (then the set fails anyway, and objects in it
        // should not add a "namespace not found" each).
        let existing = Set(firstPlan.ready.filter { !$0.created }.map(\.object.ref))
        let pending = firstObjects.filter { !existing.contains($0.ref) }
        let newNamespaces = Set(pending.filter { $0.kind == "Namespace" && $0.apiVersion == "v1" }.map(\.name))
        let newKinds = Self.kindsDefinedByCRDs(in: pending)
        let definedKinds = Self.kindsDefinedByCRDs(in: firstObjects)
        let restPlan = await plan(
            restObjects, options: options,
            waits: { newKinds.contains($0.groupVersionKind) || newNamespaces.contains($0.namespace) },
            deferrable: { object, error in
                definedKinds.contains(object.groupVersionKind) && error.reason == "NoKindMatch"
            })
        clock.lap("validate", objects: restObjects.count - restPlan.deferred.count)
        try throwIfFailed(firstPlan.failures + restPlan.failures, step: .validation, applied: ChangeSet())

        var changes = ChangeSet(entries: unchangedByLive)
        try await write(firstPlan.ready, options: options, live: live, into: &changes)
        clock.lap("write first stage", objects: firstPlan.ready.count)
        var later = restPlan.ready
        if !options.dryRun, !firstPlan.ready.isEmpty {
            try await waitUntilReady(firstPlan.ready.map(\.object), timeout: options.waitTimeout, applied: changes)
            if firstPlan.ready.contains(where: { $0.object.kind == "CustomResourceDefinition" }) {
                await mapper.invalidate()
                let waitingKinds = Set(restPlan.deferred.map(\.groupVersionKind)).intersection(definedKinds)
                try await waitUntilServed(waitingKinds, timeout: options.waitTimeout, applied: changes)
            }
            clock.lap("wait for first stage", objects: firstPlan.ready.count)
        }
        if !restPlan.deferred.isEmpty {
            if options.dryRun {
                // Their CRD or Namespace does not exist yet, so they are necessarily new; the server cannot check
                // them without stage one applied.
                changes.entries += restPlan.deferred.map {
                    ChangeSetEntry(ref: $0.ref, action: .created, note: ChangeSetEntry.notValidated)
                }
            } else {
                let checked = await plan(restPlan.deferred, options: options)
                clock.lap("validate after first stage", objects: restPlan.deferred.count)
                try throwIfFailed(checked.failures, step: .validation, applied: changes)
                later = (later + checked.ready).sorted { ApplyOrder.precedes($0.object, $1.object) }
            }
        }
        try await write(later, options: options, live: live, into: &changes)
        clock.lap("write", objects: later.count)
        return changes
    }

    /// Reads discovery before anything else: when the cluster cannot be reached or the credentials are refused,
    /// that is said once instead of once per object.
    func preflight() async throws(ApplyError) {
        do {
            try await mapper.load()
        } catch {
            throw ApplyError(cluster: error, server: api.server)
        }
    }

    /// Throws the failures of a step, as one cluster-wide error when they are about the cluster, not the objects.
    func throwIfFailed(_ failures: [PlanFailure], step: ApplyError.Step, applied: ChangeSet) throws(ApplyError) {
        guard !failures.isEmpty else { return }
        if let clusterWide = failures.first(where: { $0.error.isClusterWide }) {
            throw ApplyError(cluster: clusterWide.error, server: api.server, applied: applied)
        }
        throw ApplyError(
            step: step, failures: failures.map { ObjectFailure(ref: $0.object.ref, error: $0.error) },
            applied: applied)
    }

    /// Maps, defaults namespaces and dry-runs objects. Objects for which `waits` holds are deferred without a
    /// request; objects whose error is `deferrable` are deferred too. Every failure is collected.
    private func plan(
        _ objects: [KubeObject], options: ApplySetOptions,
        waits: @escaping @Sendable (KubeObject) -> Bool = { _ in false },
        deferrable: @escaping @Sendable (KubeObject, KubeAPIError) -> Bool = { _, _ in false }
    ) async -> Plan {
        let dryRunOptions = ApplyOptions(fieldManager: fieldManager, force: options.force, dryRun: true)
        let outcomes = await concurrentMap(objects, limit: options.concurrency) { object in
            await planOne(object, options: options, dryRunOptions: dryRunOptions, waits: waits)
        }
        var plan = Plan()
        for outcome in outcomes {
            switch outcome {
            case .success(let planned?): plan.ready.append(planned)
            case .success(nil): break
            case .failure(let failure) where deferrable(failure.object, failure.error):
                plan.deferred.append(failure.object)
            case .failure(let failure): plan.failures.append(failure)
            }
        }
        plan.deferred += zip(objects, outcomes).compactMap { object, outcome in
            if case .success(nil) = outcome { return object }
            return nil
        }
        return plan
    }

    /// Writes planned objects that differ from the live state, `concurrency` at a time, adding their outcomes (and
    /// the generations the writes left) to `changes`.
    private func write(
        _ planned: [PlannedObject], options: ApplySetOptions, live cache: LiveObjectCache?,
        into changes: inout ChangeSet
    ) async throws(ApplyError) {
        guard !planned.isEmpty else { return }
        let live = await liveObjects(planned.filter { !$0.created }, cache: cache)
        let applyOptions = ApplyOptions(fieldManager: fieldManager, force: options.force, dryRun: false)
        let outcomes = await concurrentMap(planned, limit: options.concurrency) { item in
            await writeOne(item, live: live[item.object.ref], options: applyOptions, dryRunOnly: options.dryRun)
        }
        let (written, failures) = Self.partition(outcomes)
        changes.entries += written.map(\.0)
        for case (let entry, let generation?) in written { changes.generations[entry.ref] = generation }
        try throwIfFailed(failures, step: .apply, applied: changes)
    }

    // Typed-throw `do` blocks stay in methods: inside task-group closures a release build trapped on them.
    /// Plans one object; `nil` when it must wait for the first stage.
    private func planOne(
        _ object: KubeObject, options: ApplySetOptions, dryRunOptions: ApplyOptions,
        waits: @Sendable (KubeObject) -> Bool
    ) async
        -> Result<PlannedObject?, PlanFailure>
    {
        var object = object
        if waits(object) { return .success(nil) }
        do {
            let (placed, mapping) = try await place(object, defaultNamespace: options.defaultNamespace)
            object = placed
            if waits(object) { return .success(nil) }
            let path = mapping.objectPath(namespace: object.namespace, name: object.name)
            let pointers = options.ignoredPointers(object.ref)
            let full = object
            if !pointers.isEmpty { object = Self.removing(pointers, from: object) }
            var answer = try await api.apply(path, object: .object(object.body), options: dryRunOptions)
            if answer.created, !pointers.isEmpty {
                // A new object is created whole: the ignored fields are its starting values.
                object = full
                answer = try await api.apply(path, object: .object(object.body), options: dryRunOptions)
            }
            return .success(
                PlannedObject(
                    object: object, mapping: mapping, dryRun: answer.object, created: answer.created, ignored: pointers
                ))
        } catch {
            // The object as planned (namespace settled), so errors name it as it would be applied.
            return .failure(PlanFailure(object: object, error: error))
        }
    }

    private func writeOne(
        _ item: PlannedObject, live: JSONValue?, options: ApplyOptions, dryRunOnly: Bool
    ) async
        -> Result<(ChangeSetEntry, Int64?), PlanFailure>
    {
        do {
            let (action, generation) = try await applyOne(item, live: live, options: options, dryRunOnly: dryRunOnly)
            return .success((ChangeSetEntry(ref: item.object.ref, action: action), generation))
        } catch {
            return .failure(PlanFailure(object: item.object, error: error))
        }
    }

    /// Decides and, when needed, writes one object; with what was written, the generation it left the object at.
    private func applyOne(
        _ item: PlannedObject, live: JSONValue?, options: ApplyOptions, dryRunOnly: Bool
    )
        async throws(KubeAPIError) -> (ApplyAction, Int64?)
    {
        let policy = item.object.annotations[WherryLabels.ssa]?.lowercased()
        if policy == "ignore" { return (.skipped, nil) }
        if !item.created {
            if policy == "if-not-present" { return (.skipped, nil) }
            var live = live
            if live == nil, dryRunOnly {
                // Not found by the selector (it lacks Wherry's labels); ask for it by name to compare.
                live = try await api.get(item.path)
            }
            if let live, OwnedFields.sameOwnedState(live, item.dryRun, manager: fieldManager) {
                return (.unchanged, nil)
            }
            if dryRunOnly { return (.configured, nil) }
        } else if dryRunOnly {
            return (.created, nil)
        }
        if !item.ignored.isEmpty, !item.created {
            // Fields Wherry owns from before they were ignored would be removed by an apply without them.
            var current = live
            if current == nil { current = try await api.get(item.path) }
            if let current { try await handOver(item.ignored, of: item, live: current) }
        }
        var answer = try await api.apply(item.path, object: .object(item.object.body), options: options)
        if item.created, !item.ignored.isEmpty {
            // Created with Git's values for the ignored fields; now give them away and stop owning them.
            try await handOver(item.ignored, of: item, live: answer.object)
            let rest = Self.removing(item.ignored, from: item.object)
            answer.object = try await api.apply(item.path, object: .object(rest.body), options: options).object
        }
        var generation: Int64?
        if case .int(let value)? = answer.object["metadata"]?["generation"] { generation = value }
        if answer.created { return (.created, generation) }
        if live != nil || item.created { return (.configured, generation) }
        // Found neither by the selector nor by the dry run's comparison: an unchanged resourceVersion means the
        // server found nothing to write.
        let before = item.dryRun["metadata"]?["resourceVersion"]
        let unchanged = before != nil && answer.object["metadata"]?["resourceVersion"] == before
        return (unchanged ? .unchanged : .configured, generation)
    }

    /// Live objects of existing planned objects, from the cache's LISTs, keyed by reference.
    private func liveObjects(_ planned: [PlannedObject], cache: LiveObjectCache?) async -> [ObjectRef: JSONValue] {
        guard let cache, !planned.isEmpty else { return [:] }
        let collections = Array(Set(planned.map { $0.mapping.collectionPath(namespace: $0.object.namespace) }))
        let lists = await concurrentMap(collections, limit: 8) { await cache.objects(in: $0) }
        let byCollection = Dictionary(uniqueKeysWithValues: zip(collections, lists))
        var live: [ObjectRef: JSONValue] = [:]
        for item in planned {
            let collection = item.mapping.collectionPath(namespace: item.object.namespace)
            guard let candidate = byCollection[collection]?[item.object.name] else { continue }
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
