import WherryModel

extension ResourceManager {
    /// Splits objects applied before into those the live copies show unchanged (no request needed) and the rest.
    ///
    /// An object is unchanged when its live copy (read with the shared LIST) still has Wherry's apply entry, Wherry
    /// still owns every field Git sets, and the live copy holds each value, fields left to others
    /// (`ignoredPointers`) aside; an atomic map or list (a Service's selector) must be equal, not just hold Git's
    /// members (see ``OwnedFields/holds(_:_:fields:)``). This errs only towards the rest: a value the server
    /// normalises (`0.5` CPU stored as `500m`) makes an object look changed, and the dry run that follows finds it
    /// unchanged. It is only sound when the objects were applied as they are now, which a drift check guarantees
    /// (same tree as the last successful apply): a field removed from Git would not show here.
    func splitUnchanged(
        _ objects: [KubeObject], options: ApplySetOptions, live cache: LiveObjectCache
    ) async -> (unchanged: [ChangeSetEntry], rest: [KubeObject]) {
        let checks = await concurrentMap(objects, limit: 16) { object -> ChangeSetEntry? in
            let policy = object.annotations[WherryLabels.ssa]?.lowercased()
            guard policy != "ignore",
                let (placed, mapping) = try? await place(object, defaultNamespace: options.defaultNamespace)
            else { return nil }
            let collection = mapping.collectionPath(namespace: placed.namespace)
            guard let live = await cache.objects(in: collection)[placed.name] else { return nil }
            if policy == "if-not-present" { return ChangeSetEntry(ref: placed.ref, action: .skipped) }
            guard let owned = OwnedFields.fieldSet(of: live, manager: fieldManager) else { return nil }
            let desired = Self.removing(options.ignoredPointers(placed.ref), from: placed).body
            // List items carry neither apiVersion nor kind; `holds` skips them.
            return OwnedFields.holds(live, .object(desired), fields: owned)
                ? ChangeSetEntry(ref: placed.ref, action: .unchanged) : nil
        }
        var unchanged: [ChangeSetEntry] = []
        var rest: [KubeObject] = []
        for (object, check) in zip(objects, checks) {
            if let check { unchanged.append(check) } else { rest.append(object) }
        }
        return (unchanged, rest)
    }

    /// The object without the fields at `pointers`.
    static func removing(_ pointers: [String], from object: KubeObject) -> KubeObject {
        guard !pointers.isEmpty else { return object }
        var body = JSONValue.object(object.body)
        for pointer in pointers { body = body.removing(pointer: pointer) }
        return KubeObject(body: body.objectValue ?? object.body, source: object.source)
    }
}
