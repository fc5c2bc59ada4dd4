import WherryModel

/// `DELETE` of one object, with DeleteOptions from the query or the body (`propagationPolicy`, `dryRun`, and
/// `preconditions.uid`, which a real server checks before anything else: 409 Conflict when it differs).
extension FakeClusterState {
    /// Deletes an object. Answers a `Success` Status when it is gone at once, or the object (with
    /// `metadata.deletionTimestamp`) while it lingers for ``deletionDelay``; deleting a namespace deletes its content.
    mutating func delete(
        _ target: ResourceTarget, name: String, body: [UInt8], query: [String: String], now: ContinuousClock.Instant
    ) throws(APIStatusError) -> JSONValue {
        let options = try Self.deleteOptions(body: body, query: query)
        let key = target.key(name: name)
        guard var stored = objects[key] else { throw APIStatusError.notFound(target.resource, name: name) }
        let uid = stored.body.value(at: ["metadata", "uid"]) ?? ""
        if let wanted = options.preconditionUID, uid.stringValue != wanted {
            throw APIStatusError(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(target.resource.name) \"\(name)\": Precondition failed: "
                    + "UID in precondition: \(wanted), UID in object meta: \(uid.stringValue ?? "")",
                details: APIStatusError.details(name: name, group: target.resource.group, kind: target.resource.name))
        }
        if stored.isDeleting { return stored.rendered(apiVersion: target.apiVersion) }
        let isNamespace = target.resource.group.isEmpty && target.resource.name == "namespaces"
        if isNamespace, Self.systemNamespaces.prefix(3).contains(name) {
            throw APIStatusError(
                code: 403, reason: "Forbidden",
                message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted",
                details: APIStatusError.details(name: name, group: "", kind: "namespaces"))
        }
        guard deletionDelay > .zero else {
            if !options.dryRun {
                removeNow(key)
                revision += 1
            }
            return [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                "details": [
                    "name": .string(name), "group": .string(target.resource.group),
                    "kind": .string(target.resource.name), "uid": uid,
                ],
            ]
        }
        let removeAt = now + deletionDelay
        let version = options.dryRun ? nil : nextResourceVersion()
        Self.markDeleting(&stored, removeAt: removeAt, resourceVersion: version, foreground: options.foreground)
        if isNamespace { stored.body.setValue("Terminating", at: ["status", "phase"]) }
        guard !options.dryRun else { return stored.rendered(apiVersion: target.apiVersion) }
        objects[key] = stored
        if isNamespace {
            for child in objects.keys where child.namespace == name && objects[child]?.isDeleting == false {
                Self.markDeleting(&objects[child]!, removeAt: removeAt, resourceVersion: version, foreground: false)
            }
        }
        return stored.rendered(apiVersion: target.apiVersion)
    }

    /// Sets the deletion timestamp (and foreground finalizer) and when the object goes.
    private static func markDeleting(
        _ stored: inout StoredObject, removeAt: ContinuousClock.Instant, resourceVersion: String?, foreground: Bool
    ) {
        stored.removeAt = removeAt
        stored.body.setValue(.string(timestamp()), at: ["metadata", "deletionTimestamp"])
        stored.body.setValue(0, at: ["metadata", "deletionGracePeriodSeconds"])
        if foreground { stored.body.setValue(["foregroundDeletion"], at: ["metadata", "finalizers"]) }
        if let resourceVersion { stored.body.setValue(.string(resourceVersion), at: ["metadata", "resourceVersion"]) }
    }

    /// `propagationPolicy` and `dryRun`, from the query or a `DeleteOptions` body.
    private static func deleteOptions(
        body: [UInt8], query: [String: String]
    ) throws(APIStatusError)
        -> (dryRun: Bool, foreground: Bool, preconditionUID: String?)
    {
        var policy = query["propagationPolicy"]
        var dryRun = try isDryRun(query["dryRun"])
        var uid: String?
        if !body.isEmpty {
            guard let options = try? JSONValue.parse(body), options.objectValue != nil else {
                throw .badRequest("the body of a delete must be DeleteOptions as JSON")
            }
            if let value = options["propagationPolicy"]?.stringValue { policy = value }
            uid = options["preconditions"]?["uid"]?.stringValue
            for value in options["dryRun"]?.arrayValue ?? [] {
                if try isDryRun(value.stringValue) { dryRun = true }
            }
        }
        if let policy, !["Foreground", "Background", "Orphan"].contains(policy) {
            throw APIStatusError(
                code: 422, reason: "Invalid",
                message: "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: "
                    + "\"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                details: [
                    "group": "meta.k8s.io", "kind": "DeleteOptions",
                    "causes": [
                        APIStatusError.cause(
                            reason: "FieldValueNotSupported", message: "Unsupported value: \"\(policy)\"",
                            field: "propagationPolicy")
                    ],
                ])
        }
        return (dryRun, policy == "Foreground", uid)
    }
}
