public import WherryModel

extension ResourceManager {
    /// The inventory a set of objects makes once applied: namespaces settled as the apply settles them (defaulted
    /// for namespaced kinds, removed for cluster-scoped ones). A kind discovery does not know yet is placed by the
    /// scope its CustomResourceDefinition in the same set declares. A kind whose scope neither tells is an error:
    /// guessing could put a cluster-scoped object in the inventory under a namespace, where a later prune would
    /// look for it in the wrong place, or mistake it for another.
    public func inventory(
        of objects: [KubeObject], defaultNamespace: String
    ) async throws(ApplyError) -> Inventory {
        var scopes: [GroupVersionKind: Bool] = [:]
        for crd in objects where crd.kind == "CustomResourceDefinition" {
            let namespaced = crd.body["spec"]?["scope"]?.stringValue != "Cluster"
            for kind in Self.kindsDefinedByCRDs(in: [crd]) { scopes[kind] = namespaced }
        }
        let known = scopes
        let placed = await concurrentMap(objects, limit: 16) {
            object -> (ObjectRef, Result<InventoryEntry, KubeAPIError>) in
            var object = object
            let namespaced: Bool
            do throws(KubeAPIError) {
                namespaced = try await mapper.mapping(for: object.groupVersionKind).namespaced
            } catch {
                guard error.reason == "NoKindMatch", let declared = known[object.groupVersionKind] else {
                    return (object.ref, .failure(error))
                }
                namespaced = declared
            }
            if namespaced, object.namespace.isEmpty { object.namespace = defaultNamespace }
            if !namespaced { object.namespace = "" }
            return (object.ref, .success(InventoryEntry(object)))
        }
        var entries: [InventoryEntry] = []
        var failures: [ObjectFailure] = []
        for (ref, entry) in placed {
            switch entry {
            case .success(let entry):
                entries.append(entry)
            case .failure(let error) where error.isClusterWide || error.isCancelled:
                throw ApplyError(cluster: error, server: api.server)
            case .failure(let error):
                failures.append(ObjectFailure(ref: ref, error: error))
            }
        }
        guard failures.isEmpty else {
            throw ApplyError(step: .validation, failures: failures.sorted { $0.ref < $1.ref })
        }
        return Inventory(entries)
    }

    /// Where an inventory entry lives in the API: its object path, by discovery (a `NoKindMatch` error when its kind
    /// is no longer served).
    func objectPath(of entry: InventoryEntry) async throws(KubeAPIError) -> String {
        let mapping = try await mapper.mapping(for: entry.groupVersionKind)
        return mapping.objectPath(namespace: mapping.namespaced ? entry.ref.namespace : nil, name: entry.ref.name)
    }
}
