import WherryModel

/// Writes by another client that replaces objects (an `Update`, as `kubectl edit` or a controller makes):
/// how tests simulate drift.
extension FakeClusterState {
    /// Stores a whole object as `manager` with operation `Update`: the manager takes ownership of every field it
    /// changed, away from other managers, as the real server does for updates. Creates the object when missing.
    mutating func update(
        _ object: JSONValue, manager: String, now: ContinuousClock.Instant
    ) throws(APIStatusError)
        -> JSONValue
    {
        tick(now: now)
        guard case .object(var body) = object, let apiVersion = body["apiVersion"]?.stringValue,
            let kind = body["kind"]?.stringValue, let name = body.value(at: ["metadata", "name"])?.stringValue
        else { throw .badRequest("put needs an object with apiVersion, kind and metadata.name") }
        let gvk = GroupVersionKind(apiVersion: apiVersion, kind: kind)
        guard let resource = resource(group: gvk.group, version: gvk.version, kind: kind) else {
            throw .badRequest("no resource serves \(apiVersion), Kind=\(kind) (yet)")
        }
        let namespace =
            resource.namespaced ? body.value(at: ["metadata", "namespace"])?.stringValue ?? "default" : nil
        if let namespace {
            body.setValue(.string(namespace), at: ["metadata", "namespace"])
        } else {
            body.removeValue(at: ["metadata", "namespace"])
        }
        body = Self.removingServerFields(body, removeStatus: false)
        let target = ResourceTarget(resource: resource, version: gvk.version, namespace: namespace, name: name)
        let key = target.key(name: name)
        let time = Self.timestamp()
        guard let live = objects[key] else {
            let fields = FieldSet.leaves(of: body.removing(["status"]), atomic: Self.atomicPaths(of: resource))
            let entry = StoredObject.Manager(
                manager: manager, operation: "Update", apiVersion: apiVersion, time: time, fields: fields)
            let created = try create(body, key: key, target: target, managers: [entry], dryRun: false, now: now)
            return created.rendered()
        }
        for field in ["uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp"]
        where live.body.value(at: ["metadata", field]) != nil {
            body.setValue(live.body.value(at: ["metadata", field])!, at: ["metadata", field])
        }
        if body["status"] == nil { body["status"] = live.body["status"] }
        body["apiVersion"] = live.body["apiVersion"]
        let changed = FieldSet.leaves(of: body.removing(["status"]), atomic: Self.atomicPaths(of: resource)).paths
            .filter { body.value(at: $0) != live.body.value(at: $0) }
        var managers = live.managers
        for index in managers.indices where managers[index].manager != manager || managers[index].operation != "Update"
        {
            managers[index].fields = managers[index].fields.removingOverlaps(with: changed).keepingExisting(in: body)
        }
        if let mine = managers.firstIndex(where: { $0.manager == manager && $0.operation == "Update" }) {
            managers[mine].fields = managers[mine].fields.union(FieldSet(changed)).keepingExisting(in: body)
            managers[mine].time = time
        } else {
            managers.append(
                StoredObject.Manager(
                    manager: manager, operation: "Update", apiVersion: apiVersion, time: time, fields: FieldSet(changed)
                ))
        }
        managers.removeAll { $0.fields.isEmpty }
        var updated = StoredObject(
            body: Self.converted(body, resource: resource), managers: managers, removeAt: live.removeAt)
        let causes = Self.validationCauses(updated.body, resource: resource)
        guard causes.isEmpty else { throw APIStatusError.invalid(resource, name: name, causes: causes) }
        if updated.sameContent(as: live) { return live.rendered() }
        Self.bumpGeneration(of: &updated, from: live)
        updated.body.setValue(.string(nextResourceVersion()), at: ["metadata", "resourceVersion"])
        objects[key] = updated
        scheduleControllers(after: updated, replacing: live, key: key, now: now)
        return updated.rendered()
    }

    /// `POST` to a collection: creates the object, 409 `AlreadyExists` when it exists.
    mutating func createByPost(
        _ target: ResourceTarget, body: [UInt8], query: [String: String], now: ContinuousClock.Instant
    ) throws(APIStatusError) -> JSONValue {
        guard case .object(var object)? = try? JSONValue.parse(body),
            let name = object.value(at: ["metadata", "name"])?.stringValue
        else { throw .badRequest("the body of a create must be an object with metadata.name") }
        if let namespace = target.namespace { object.setValue(.string(namespace), at: ["metadata", "namespace"]) }
        guard objects[target.key(name: name)] == nil else {
            throw APIStatusError(
                code: 409, reason: "AlreadyExists",
                message: "\(target.resource.groupResource) \"\(name)\" already exists",
                details: APIStatusError.details(name: name, group: target.resource.group, kind: target.resource.name))
        }
        return try update(.object(object), manager: query["fieldManager"] ?? "unknown", now: now)
    }

    /// `PUT` of an object: replaces it, but only when the body's `metadata.resourceVersion` (if given) is the stored
    /// one; otherwise 409 Conflict, as a real server answers concurrent writers (what a Lease's leader election rests
    /// on). A missing object is 404: these resources are not created by PUT.
    mutating func replace(
        _ target: ResourceTarget, name: String, body: [UInt8], query: [String: String], now: ContinuousClock.Instant
    ) throws(APIStatusError) -> JSONValue {
        guard case .object(var object)? = try? JSONValue.parse(body) else {
            throw .badRequest("the body of an update must be an object")
        }
        guard let live = objects[target.key(name: name)] else {
            throw APIStatusError.notFound(target.resource, name: name)
        }
        if let wanted = object.value(at: ["metadata", "resourceVersion"])?.stringValue,
            wanted != live.body.value(at: ["metadata", "resourceVersion"])?.stringValue
        {
            throw APIStatusError.modified(target.resource, name: name)
        }
        if let namespace = target.namespace { object.setValue(.string(namespace), at: ["metadata", "namespace"]) }
        return try update(.object(object), manager: query["fieldManager"] ?? "unknown", now: now)
    }

    /// Replaces an object's `status` (as a controller would), with a new resourceVersion when it changes.
    mutating func setStatus(_ status: JSONValue, key: StoredObject.Key, now: ContinuousClock.Instant) -> Bool {
        tick(now: now)
        guard var stored = objects[key] else { return false }
        guard stored.body["status"] != status else { return true }
        stored.body["status"] = status
        stored.body.setValue(.string(nextResourceVersion()), at: ["metadata", "resourceVersion"])
        objects[key] = stored
        return true
    }
}
