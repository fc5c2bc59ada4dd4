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
    /// Entries that must stay in the inventory: deletes that failed (retried next time), and Namespaces and
    /// CustomResourceDefinitions kept while deleting them would delete objects that stay.
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
    /// service's, a failed delete, one not in this prune, a dependent with `orphan` propagation) is kept with that
    /// reason, since deleting it would take the object with it. While discovery of any group version fails, what a
    /// Namespace holds cannot all be seen, so its prune fails (retried later). A CustomResourceDefinition is kept by
    /// the same rule while custom resources of its kind stay, in any namespace. An entry whose stored apiVersion is no
    /// longer served is found at a version that is; only when none is, its kind is gone and so is the object. Deletes
    /// are conditional on the uid that was checked, so an object recreated meanwhile is not deleted. An object
    /// already gone counts as deleted.
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
        let live: JSONValue
        do {
            switch try await locate(entry) {
            case .gone(let note): return .deleted(entry, note: note)
            case .live(let found, let object): (path, live) = (found, object)
            }
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
        let contents: Result<[(ObjectRef, String)], KubeAPIError>?
        if entry.ref.kind == "Namespace", entry.ref.group.isEmpty {
            contents = await foreignObjects(inNamespace: entry.ref.name, options: options, removed: done.removed)
        } else if entry.ref.kind == "CustomResourceDefinition", entry.ref.group == Self.crdGroup {
            contents = await customResourcesThatStay(definedBy: live, options: options, removed: done.removed)
        } else {
            contents = nil
        }
        switch contents {
        case .success(let staying)? where !staying.isEmpty:
            let names = staying.prefix(3).map { ref, why in "\(ref): \(done.staying[ref] ?? why)" }
            return .kept(
                entry,
                note: "deleting it would delete what stays \(entry.ref.kind == "Namespace" ? "in it" : "of its kind"): "
                    + names.joined(separator: "; ") + (staying.count > 3 ? "; and \(staying.count - 3) more" : ""),
                retain: true)
        case .failure(let error)?:
            return .failed(entry, ObjectFailure(ref: entry.ref, error: error))
        case .success?, nil:
            break
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

    /// An entry's object as it is now, or why it is gone.
    private enum Located {
        case live(path: String, object: JSONValue)
        case gone(note: String)
    }

    /// What the API server answers for a path it does not serve (not for a missing object): a built-in group's
    /// handler with a `Status`, its fallback handler (a CRD version no longer served) with plain text.
    static let unservedPathMessages: Set<String> = [
        "the server could not find the requested resource", "404 page not found",
    ]

    /// Reads an entry's object. A path the server no longer serves (discovery was read before a CRD stopped serving
    /// that version) is looked up once more with fresh discovery, so a stale mapping never reads as "already gone".
    private func locate(_ entry: InventoryEntry) async throws(KubeAPIError) -> Located {
        var refreshed = false
        while true {
            guard let path = try await prunePath(of: entry) else {
                // No version of its kind is served: its CustomResourceDefinition is gone, and the objects with it.
                return .gone(note: "its kind is no longer served")
            }
            do {
                return .live(path: path, object: try await api.get(path))
            } catch  where error.isNotFound && Self.unservedPathMessages.contains(error.message) && !refreshed {
                refreshed = true
                await mapper.invalidate()
            } catch  where error.isNotFound {
                return .gone(note: "already gone")
            }
        }
    }

    /// Where an entry's object lives now: at its stored apiVersion or, when that version is no longer served, at any
    /// version of its group and kind that is (a CRD upgrade that stopped serving `v1alpha1` serves the same objects at
    /// `v1`). `nil` only when no version of the kind is served, so the objects are gone with their definition.
    private func prunePath(of entry: InventoryEntry) async throws(KubeAPIError) -> String? {
        let mapping: ResourceMapping
        do {
            mapping = try await mapper.mapping(for: entry.groupVersionKind)
        } catch  where error.reason == "NoKindMatch" {
            do {
                mapping = try await mapper.mapping(group: entry.ref.group, kind: entry.ref.kind)
            } catch  where error.reason == "NoKindMatch" {
                return nil
            }
        }
        return mapping.objectPath(namespace: mapping.namespaced ? entry.ref.namespace : nil, name: entry.ref.name)
    }

    /// The group of CustomResourceDefinitions.
    static let crdGroup = "apiextensions.k8s.io"

    /// Objects in a Namespace that deleting it would take with it although this prune did not delete them: anything
    /// except this service's objects in `removed` (deleted by this prune), objects already being deleted, dependents
    /// of other objects (ownerReferences; they stay with `orphan` propagation), Events and Endpoints, and what
    /// Kubernetes puts in every Namespace. Fails while discovery of any group version fails: what the Namespace holds
    /// of it cannot be seen.
    func foreignObjects(
        inNamespace namespace: String, options: PruneOptions, removed: Set<ObjectRef>
    ) async -> Result<[(ObjectRef, String)], KubeAPIError> {
        let resources: [ResourceMapping]
        do {
            resources = try await mapper.namespacedResources()
        } catch {
            return .failure(error)
        }
        let lists = await concurrentMap(resources, limit: 8) { mapping in
            await foreignObjects(of: mapping, inNamespace: namespace, options: options, removed: removed)
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
        of mapping: ResourceMapping, inNamespace namespace: String, options: PruneOptions, removed: Set<ObjectRef>
    ) async -> Result<[(ObjectRef, String)], KubeAPIError> {
        let kind = mapping.groupVersionKind
        if Self.transientKinds.contains("\(kind.group)/\(kind.kind)") { return .success([]) }
        do {
            let items = try await api.list(mapping.collectionPath(namespace: namespace), labelSelector: nil)
            return .success(
                items.compactMap { item in
                    let name = item["metadata"]?["name"]?.stringValue ?? ""
                    let ref = ObjectRef(group: kind.group, kind: kind.kind, namespace: namespace, name: name)
                    if ref.group.isEmpty, Self.namespaceDefaults.contains("\(ref.kind)/\(ref.name)") { return nil }
                    return Self.staysReason(item, ref: ref, options: options, removed: removed).map { (ref, $0) }
                })
        } catch  where error.isNotFound || error.code == 405 {
            return .success([])
        } catch {
            return .failure(error)
        }
    }

    /// The custom resources a CustomResourceDefinition about to be pruned defines that stay (by the rule of
    /// ``staysReason(_:ref:options:removed:ownerGoes:)``), in every namespace: deleting the definition deletes them all.
    /// They are listed at a version the live definition serves, by its group and plural; a definition that is not
    /// established serves none, so none can exist.
    func customResourcesThatStay(
        definedBy crd: JSONValue, options: PruneOptions, removed: Set<ObjectRef>
    ) async -> Result<[(ObjectRef, String)], KubeAPIError> {
        let spec = crd["spec"]
        let conditions = crd["status"]?["conditions"]?.arrayValue ?? []
        guard conditions.contains(where: { $0["type"] == "Established" && $0["status"] == "True" }) else {
            return .success([])
        }
        let name = crd["metadata"]?["name"]?.stringValue ?? ""
        let versions = (spec?["versions"]?.arrayValue ?? []).filter { $0["served"] != false }
        let version = (versions.first { $0["storage"] == true } ?? versions.first)?["name"]?.stringValue
        guard let group = spec?["group"]?.stringValue, let plural = spec?["names"]?["plural"]?.stringValue,
            let kind = spec?["names"]?["kind"]?.stringValue, let version
        else {
            return .failure(
                KubeAPIError(
                    code: 0, reason: "Failed",
                    message: "the CustomResourceDefinition \(name) names no served version, group, plural and kind, "
                        + "so its objects cannot be listed",
                    request: "GET CustomResourceDefinition/\(name)"))
        }
        let mapping = ResourceMapping(
            groupVersionKind: GroupVersionKind(apiVersion: "\(group)/\(version)", kind: kind), resource: plural,
            namespaced: spec?["scope"]?.stringValue != "Cluster")
        do {
            let items = try await api.list(mapping.collectionPath(namespace: nil), labelSelector: nil)
            return .success(
                items.compactMap { item in
                    let ref = ObjectRef(
                        group: group, kind: kind, namespace: item["metadata"]?["namespace"]?.stringValue ?? "",
                        name: item["metadata"]?["name"]?.stringValue ?? "")
                    // A dependent goes with the definition harmlessly only when its owners go too: other objects of
                    // this kind (judged on their own) or objects this prune deleted.
                    let ownerGoes = { (owner: JSONValue) -> Bool in
                        let ownerGroup = GroupVersionKind(
                            apiVersion: owner["apiVersion"]?.stringValue ?? "", kind: ""
                        ).group
                        let ownerKind = owner["kind"]?.stringValue ?? ""
                        if ownerGroup == group, ownerKind == kind { return true }
                        let ownerName = owner["name"]?.stringValue ?? ""
                        return [ref.namespace, ""].contains { namespace in
                            removed.contains(
                                ObjectRef(group: ownerGroup, kind: ownerKind, namespace: namespace, name: ownerName))
                        }
                    }
                    return Self.staysReason(item, ref: ref, options: options, removed: removed, ownerGoes: ownerGoes)
                        .map { (ref, $0) }
                }
                .sorted { $0.0 < $1.0 })
        } catch {
            return .failure(error)
        }
    }

    /// Kinds (`group/Kind`) that mirror or record other objects and never hold anything of their own; a custom kind
    /// of the same name in another group is not one of them.
    static let transientKinds: Set<String> = ["/Event", "events.k8s.io/Event", "/Endpoints"]

    /// Objects Kubernetes itself creates in every Namespace (core group).
    static let namespaceDefaults: Set<String> = ["ConfigMap/kube-root-ca.crt", "ServiceAccount/default"]

    /// Why an object that a Namespace or CustomResourceDefinition about to be pruned would take with it stays (so the
    /// Namespace or definition must stay too); `nil` when it goes harmlessly: this prune deleted it, it is being
    /// deleted, or it is a dependent whose owners all go (`ownerGoes`) and the prune does not orphan dependents.
    static func staysReason(
        _ item: JSONValue, ref: ObjectRef, options: PruneOptions, removed: Set<ObjectRef>,
        ownerGoes: (JSONValue) -> Bool = { _ in true }
    ) -> String? {
        let metadata = item["metadata"]
        if metadata?["deletionTimestamp"] != nil { return nil }
        let owners = metadata?["ownerReferences"]?.arrayValue ?? []
        if !owners.isEmpty {
            if options.propagation == .orphan { return "a dependent, and prune_propagation orphan leaves dependents" }
            guard let staying = owners.first(where: { !ownerGoes($0) }) else { return nil }
            let kind = staying["kind"]?.stringValue ?? ""
            return "a dependent of \(kind)/\(staying["name"]?.stringValue ?? ""), which stays"
        }
        let labels = metadata?["labels"]
        guard labels?[WherryLabels.managedBy]?.stringValue == WherryLabels.managedByValue else {
            return "not Wherry's"
        }
        let owner = labels?[WherryLabels.service]?.stringValue ?? ""
        guard owner == options.service else { return "service \(owner)'s" }
        return removed.contains(ref) ? nil : "still this service's"
    }

}

/// What a prune settled before the group that is about to run: what it deleted, and why the rest stays.
struct PruneProgress: Sendable {
    var removed: Set<ObjectRef>
    var staying: [ObjectRef: String]
}
