public import WherryModel

extension ResourceManager {
    /// The inventory a set of objects makes once applied: namespaces settled as the apply settles them (defaulted
    /// for namespaced kinds, removed for cluster-scoped ones). A kind discovery does not know yet is placed by the
    /// scope its CustomResourceDefinition in the same set declares, else taken as namespaced.
    public func inventory(of objects: [KubeObject], defaultNamespace: String) async -> Inventory {
        var scopes: [GroupVersionKind: Bool] = [:]
        for crd in objects where crd.kind == "CustomResourceDefinition" {
            let namespaced = crd.body["spec"]?["scope"]?.stringValue != "Cluster"
            for kind in Self.kindsDefinedByCRDs(in: [crd]) { scopes[kind] = namespaced }
        }
        let known = scopes
        let placed = await concurrentMap(objects, limit: 16) { object in
            var object = object
            let namespaced: Bool
            if let mapping = try? await mapper.mapping(for: object.groupVersionKind) {
                namespaced = mapping.namespaced
            } else {
                namespaced = known[object.groupVersionKind] ?? true
            }
            if namespaced, object.namespace.isEmpty { object.namespace = defaultNamespace }
            if !namespaced { object.namespace = "" }
            return InventoryEntry(object)
        }
        return Inventory(placed)
    }

    /// Where an inventory entry lives in the API: its object path, by discovery (a `NoKindMatch` error when its kind
    /// is no longer served).
    func objectPath(of entry: InventoryEntry) async throws(KubeAPIError) -> String {
        let mapping = try await mapper.mapping(for: entry.groupVersionKind)
        return mapping.objectPath(namespace: mapping.namespaced ? entry.ref.namespace : nil, name: entry.ref.name)
    }
}
