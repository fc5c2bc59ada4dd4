public import WherryModel

/// How objects that left a service are pruned.
public struct PruneOptions: Sendable {
    /// The service whose objects these are: only objects still labelled `wherry.dev/service=<service>` are deleted.
    public var service: String
    public var propagation: DeleteOptions.Propagation
    /// Check and report only; delete nothing.
    public var dryRun: Bool
    public var concurrency: Int

    public init(
        service: String, propagation: DeleteOptions.Propagation = .background, dryRun: Bool = false,
        concurrency: Int = 8
    ) {
        self.service = service
        self.propagation = propagation
        self.dryRun = dryRun
        self.concurrency = concurrency
    }
}

/// What a prune did.
public struct PruneResult: Sendable {
    /// `deleted` and `kept` entries (a kept entry's note says why), in the order they were handled.
    public var changes = ChangeSet()
    /// Entries that must stay in the inventory: deletes that failed (retried next time) and Namespaces kept while
    /// they hold objects Wherry does not own.
    public var retained: [InventoryEntry] = []
    public var failures: [ObjectFailure] = []

    public init() {}
}

/// One entry's outcome.
enum PruneStep: Sendable {
    case deleted(InventoryEntry, note: String?)
    case kept(InventoryEntry, note: String, retain: Bool)
    case failed(InventoryEntry, ObjectFailure)
}

extension ResourceManager {
    /// Deletes inventory entries that left Git, in the reverse of the apply order, each only when it is safe:
    /// it still carries this service's labels, it is not annotated `wherry.dev/prune: disabled`, and (for a
    /// Namespace) nothing is left in it that stays: Namespaces are handled last, once every other entry was deleted or
    /// kept, and a Namespace still holding an object this prune did not delete (protected, not Wherry's, another
    /// service's, a failed delete, one not in this prune) is kept with that reason, since deleting it would take the
    /// object with it. Deletes are conditional on the uid that was checked, so an object recreated meanwhile is not
    /// deleted. An object already gone counts as deleted.
    public func prune(_ entries: [InventoryEntry], options: PruneOptions) async -> PruneResult {
        var result = PruneResult()
        guard !entries.isEmpty else { return result }
        let isNamespace = { (entry: InventoryEntry) in entry.ref.kind == "Namespace" && entry.ref.group.isEmpty }
        let groups = Dictionary(grouping: entries.filter { !isNamespace($0) }) { ApplyOrder.rank(of: $0.ref.kind) }
        var removed: Set<ObjectRef> = []
        // Why each entry this prune did not delete stays, for the Namespaces that hold them.
        var staying: [ObjectRef: String] = [:]
        var ranks: [[InventoryEntry]] = groups.keys.sorted(by: >).map { groups[$0, default: []] }
        ranks.append(entries.filter(isNamespace))
        for group in ranks where !group.isEmpty {
            let done = PruneProgress(removed: removed, staying: staying)
            let steps = await concurrentMap(group.sorted().reversed(), limit: options.concurrency) { entry in
                await pruneOne(entry, options: options, done: done)
            }
            for step in steps {
                switch step {
                case .deleted(let entry, let note):
                    result.changes.entries.append(ChangeSetEntry(ref: entry.ref, action: .deleted, note: note))
                    removed.insert(entry.ref)
                case .kept(let entry, let note, let retain):
                    result.changes.entries.append(ChangeSetEntry(ref: entry.ref, action: .kept, note: note))
                    staying[entry.ref] = note
                    if retain { result.retained.append(entry) }
                case .failed(let entry, let failure):
                    result.failures.append(failure)
                    result.retained.append(entry)
                    staying[entry.ref] = "its delete failed"
                }
            }
        }
        return result
    }

    private func pruneOne(_ entry: InventoryEntry, options: PruneOptions, done: PruneProgress) async -> PruneStep {
        let path: String
        do {
            path = try await objectPath(of: entry)
        } catch  where error.reason == "NoKindMatch" {
            // Its CustomResourceDefinition is gone, and the objects with it.
            return .deleted(entry, note: "its kind is no longer served")
        } catch {
            return .failed(entry, ObjectFailure(ref: entry.ref, error: error))
        }
        let live: JSONValue
        do {
            live = try await api.get(path)
        } catch  where error.isNotFound {
            return .deleted(entry, note: "already gone")
        } catch {
            return .failed(entry, ObjectFailure(ref: entry.ref, error: error))
        }
        let labels = live["metadata"]?["labels"]
        let owner = labels?[WherryLabels.service]?.stringValue
        guard labels?[WherryLabels.managedBy]?.stringValue == WherryLabels.managedByValue, owner == options.service
        else {
            let now = owner.map { "it now belongs to service \($0)" } ?? "it no longer carries Wherry's labels"
            return .kept(entry, note: "\(now); not deleted", retain: false)
        }
        if live["metadata"]?["annotations"]?[WherryLabels.prune]?.stringValue?.lowercased() == "disabled" {
            return .kept(entry, note: "\(WherryLabels.prune): disabled", retain: false)
        }
        if live["metadata"]?["deletionTimestamp"] != nil { return .deleted(entry, note: "already being deleted") }
        if entry.ref.kind == "Namespace", entry.ref.group.isEmpty {
            switch await foreignObjects(inNamespace: entry.ref.name, service: options.service, removed: done.removed) {
            case .success(let foreign) where !foreign.isEmpty:
                let names = foreign.prefix(3).map { ref, why in "\(ref): \(done.staying[ref] ?? why)" }
                return .kept(
                    entry,
                    note: "deleting it would delete what stays in it: " + names.joined(separator: "; ")
                        + (foreign.count > 3 ? "; and \(foreign.count - 3) more" : ""), retain: true)
            case .success:
                break
            case .failure(let error):
                return .failed(entry, ObjectFailure(ref: entry.ref, error: error))
            }
        }
        guard !options.dryRun else { return .deleted(entry, note: nil) }
        do {
            let uid = live["metadata"]?["uid"]?.stringValue
            try await api.delete(path, options: DeleteOptions(propagation: options.propagation, preconditionUID: uid))
            return .deleted(entry, note: nil)
        } catch  where error.isNotFound {
            return .deleted(entry, note: "already gone")
        } catch {
            return .failed(entry, ObjectFailure(ref: entry.ref, error: error))
        }
    }

    /// Objects in a Namespace that deleting it would take with it although this prune did not delete them: anything
    /// except this service's objects in `removed` (deleted by this prune), objects already being deleted, dependents
    /// of other objects (ownerReferences), Events and Endpoints, and what Kubernetes puts in every Namespace.
    func foreignObjects(
        inNamespace namespace: String, service: String, removed: Set<ObjectRef>
    ) async -> Result<[(ObjectRef, String)], KubeAPIError> {
        let resources: [ResourceMapping]
        do {
            resources = try await mapper.namespacedResources()
        } catch {
            return .failure(error)
        }
        let lists = await concurrentMap(resources, limit: 8) { mapping in
            await foreignObjects(of: mapping, inNamespace: namespace, service: service, removed: removed)
        }
        var foreign: [(ObjectRef, String)] = []
        for list in lists {
            switch list {
            case .success(let refs): foreign += refs
            case .failure(let error): return .failure(error)
            }
        }
        return .success(foreign.sorted { $0.0 < $1.0 })
    }

    private func foreignObjects(
        of mapping: ResourceMapping, inNamespace namespace: String, service: String, removed: Set<ObjectRef>
    ) async -> Result<[(ObjectRef, String)], KubeAPIError> {
        let kind = mapping.groupVersionKind
        if Self.transientKinds.contains(kind.kind) { return .success([]) }
        do {
            let items = try await api.list(mapping.collectionPath(namespace: namespace), labelSelector: nil)
            return .success(
                items.compactMap { item in
                    let name = item["metadata"]?["name"]?.stringValue ?? ""
                    let ref = ObjectRef(group: kind.group, kind: kind.kind, namespace: namespace, name: name)
                    return Self.staysReason(item, ref: ref, service: service, removed: removed).map { (ref, $0) }
                })
        } catch  where error.isNotFound || error.code == 405 {
            return .success([])
        } catch {
            return .failure(error)
        }
    }

    /// Kinds that mirror or record other objects and never hold anything of their own.
    static let transientKinds: Set<String> = ["Event", "Endpoints"]

    /// Objects Kubernetes itself creates in every Namespace.
    static let namespaceDefaults: Set<String> = ["ConfigMap/kube-root-ca.crt", "ServiceAccount/default"]

    /// Why an object in a Namespace about to be pruned stays (so the Namespace must stay too); `nil` when it goes
    /// with the Namespace harmlessly (this prune deleted it, it is being deleted, a dependent, a default).
    static func staysReason(_ item: JSONValue, ref: ObjectRef, service: String, removed: Set<ObjectRef>) -> String? {
        let metadata = item["metadata"]
        if metadata?["deletionTimestamp"] != nil { return nil }
        if !(metadata?["ownerReferences"]?.arrayValue ?? []).isEmpty { return nil }
        if namespaceDefaults.contains("\(ref.kind)/\(ref.name)") { return nil }
        let labels = metadata?["labels"]
        guard labels?[WherryLabels.managedBy]?.stringValue == WherryLabels.managedByValue else {
            return "not Wherry's"
        }
        let owner = labels?[WherryLabels.service]?.stringValue ?? ""
        guard owner == service else { return "service \(owner)'s" }
        return removed.contains(ref) ? nil : "still this service's"
    }

}

/// What a prune settled before the group that is about to run: what it deleted, and why the rest stays.
struct PruneProgress: Sendable {
    var removed: Set<ObjectRef>
    var staying: [ObjectRef: String]
}
