import Foundation
import WherryModel

/// Server-side apply, a faithful simplification: each manager owns the leaf fields it applied; maps merge,
/// lists and scalars replace; a field another manager holds with a different value is a conflict unless forced.
extension FakeClusterState {
    /// Answers `PATCH` with `application/apply-patch+yaml` for one object: `201` when created, `200` otherwise.
    mutating func apply(
        _ target: ResourceTarget, name: String, body: [UInt8], query: [String: String], now: ContinuousClock.Instant
    ) throws(APIStatusError) -> (code: Int, body: JSONValue) {
        guard let manager = query["fieldManager"], !manager.isEmpty else { throw Self.fieldManagerRequired }
        let force = try Self.flag(query["force"], name: "force")
        let dryRun = try Self.isDryRun(query["dryRun"])
        var applied = try Self.appliedObject(body, target: target, name: name)
        let precondition = applied.value(at: ["metadata", "resourceVersion"])?.stringValue
        applied = Self.removingServerFields(applied, removeStatus: target.resource.hasStatus)
        let problems = typedPatchProblems(applied, resource: target.resource, version: target.version)
        guard problems.isEmpty else {
            throw Self.typedPatchError(
                problems, resource: target.resource, version: target.version, namespace: target.namespace, name: name)
        }
        let entry = StoredObject.Manager(
            manager: manager, operation: "Apply", apiVersion: target.apiVersion, time: Self.timestamp(),
            fields: FieldSet.leaves(of: applied, atomic: Self.atomicPaths(of: target.resource)))
        let key = target.key(name: name)
        guard let live = objects[key] else {
            let created = try create(applied, key: key, target: target, managers: [entry], dryRun: dryRun, now: now)
            return (201, created.rendered(apiVersion: target.apiVersion))
        }
        let liveVersion = live.body.value(at: ["metadata", "resourceVersion"])?.stringValue
        if let precondition, precondition != liveVersion {
            throw APIStatusError.modified(target.resource, name: name)
        }
        var managers = live.managers
        let conflicts = Self.conflicts(applying: applied, as: entry, over: live)
        if !conflicts.isEmpty {
            guard force else { throw Self.conflictError(conflicts) }
            let taken = conflicts.map(\.path)
            for index in managers.indices where managers[index].manager != manager {
                managers[index].fields = managers[index].fields.removingOverlaps(with: taken)
            }
        }
        let mine = managers.firstIndex { $0.manager == manager && $0.operation == "Apply" }
        let previous = mine.map { managers[$0].fields } ?? FieldSet()
        var object = live.body
        for path in previous.subtracting(entry.fields).sorted where !entry.fields.overlaps(path) {
            let sharedElsewhere = managers.enumerated().contains { index, other in
                index != mine && other.fields.overlaps(path)
            }
            if !sharedElsewhere { object.removeValue(at: path) }
        }
        object = object.merging(applied, atomic: Self.atomicPaths(of: target.resource))
        object = Self.defaulted(
            Self.converted(object, resource: target.resource), resource: target.resource, revision: revision)
        object["apiVersion"] = live.body["apiVersion"]
        if let mine { managers[mine] = entry } else { managers.append(entry) }
        managers.removeAll { $0.fields.isEmpty }
        var updated = StoredObject(body: object, managers: managers, removeAt: live.removeAt)
        let causes = Self.validationCauses(updated.body, resource: target.resource)
        guard causes.isEmpty else { throw APIStatusError.invalid(target.resource, name: name, causes: causes) }
        if updated.sameContent(as: live) { return (200, live.rendered(apiVersion: target.apiVersion)) }
        Self.bumpGeneration(of: &updated, from: live)
        guard !dryRun else { return (200, updated.rendered(apiVersion: target.apiVersion)) }
        updated.body.setValue(.string(nextResourceVersion()), at: ["metadata", "resourceVersion"])
        objects[key] = updated
        scheduleControllers(after: updated, replacing: live, key: key, now: now)
        return (200, updated.rendered(apiVersion: target.apiVersion))
    }

    /// Creates an object (apply of a missing object, or a direct `put`): server metadata, initial status, checks.
    mutating func create(
        _ applied: JSONObject, key: StoredObject.Key, target: ResourceTarget, managers: [StoredObject.Manager],
        dryRun: Bool, now: ContinuousClock.Instant
    ) throws(APIStatusError) -> StoredObject {
        if let namespaceKey = key.namespaceKey {
            guard let namespace = objects[namespaceKey] else {
                throw APIStatusError.notFound(APIResource.namespaces, name: key.namespace)
            }
            if namespace.isDeleting {
                throw APIStatusError(
                    code: 403, reason: "Forbidden",
                    message: "\(target.resource.groupResource) \"\(key.name)\" is forbidden: unable to create new "
                        + "content in namespace \(key.namespace) because it is being terminated",
                    details: APIStatusError.details(
                        name: key.name, group: target.resource.group, kind: target.resource.name))
            }
        }
        var object = applied
        object["apiVersion"] = .string(target.apiVersion)
        object["kind"] = .string(target.resource.kind)
        var metadata = object["metadata"]?.objectValue ?? JSONObject()
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        if !dryRun { metadata["resourceVersion"] = .string(String(revision + 1)) }
        metadata["generation"] = 1
        metadata["creationTimestamp"] = .string(Self.timestamp())
        object["metadata"] = .object(metadata)
        object = Self.converted(object, resource: target.resource)
        let crd = APIResource.customResourceDefinitions
        if target.resource.group == crd.group, target.resource.name == crd.name {
            object["status"] = .object(Self.crdStatus(object, established: crdEstablishDelay <= .zero))
        } else if target.resource.group.isEmpty, target.resource.name == "namespaces" {
            // The real server labels every namespace with its name.
            object.setValue(.string(key.name), at: ["metadata", "labels", "kubernetes.io/metadata.name"])
            object["status"] = ["phase": "Active"]
        }
        object = Self.defaulted(object, resource: target.resource, revision: revision + 1)
        let causes = Self.validationCauses(object, resource: target.resource)
        guard causes.isEmpty else { throw APIStatusError.invalid(target.resource, name: key.name, causes: causes) }
        let stored = StoredObject(body: object, managers: managers)
        guard !dryRun else { return stored }
        revision += 1
        objects[key] = stored
        scheduleControllers(after: stored, replacing: nil, key: key, now: now)
        if target.resource.group == crd.group, target.resource.name == crd.name, crdEstablishDelay > .zero {
            pendingCRDs[key.name] = now + crdEstablishDelay
        }
        return stored
    }

    /// The fields of `applied` whose live value differs while another manager owns them (or a path around them).
    static func conflicts(
        applying applied: JSONObject, as entry: StoredObject.Manager, over live: StoredObject
    )
        -> [(manager: StoredObject.Manager, path: FieldSet.Path)]
    {
        var found: [(manager: StoredObject.Manager, path: FieldSet.Path)] = []
        for path in entry.fields.sorted {
            guard let value = applied.value(at: path), !value.isSatisfied(by: live.body.value(at: path)) else {
                continue
            }
            for other in live.managers where other.manager != entry.manager && other.fields.overlaps(path) {
                found.append((other, path))
            }
        }
        return found
    }

    /// `409 Conflict` with `FieldManagerConflict` causes, worded as the API server words it.
    static func conflictError(_ conflicts: [(manager: StoredObject.Manager, path: FieldSet.Path)]) -> APIStatusError {
        func describe(_ manager: StoredObject.Manager) -> String {
            manager.operation == "Update"
                ? "\"\(manager.manager)\" using \(manager.apiVersion) at \(manager.time)" : "\"\(manager.manager)\""
        }
        let causes = conflicts.map { conflict in
            APIStatusError.cause(
                reason: "FieldManagerConflict", message: "conflict with \(describe(conflict.manager))",
                field: FieldSet.display(conflict.path))
        }
        let message: String
        if conflicts.count == 1 {
            message =
                "Apply failed with 1 conflict: conflict with \(describe(conflicts[0].manager)): "
                + FieldSet.display(conflicts[0].path)
        } else {
            var lines: [String] = []
            let byManager = Dictionary(grouping: conflicts) { describe($0.manager) }
            for manager in byManager.keys.sorted() {
                lines.append("conflicts with \(manager):")
                lines += byManager[manager]!.map { "- " + FieldSet.display($0.path) }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIStatusError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }

    /// The applied configuration, checked against the URL: kind, apiVersion, name and namespace.
    static func appliedObject(
        _ body: [UInt8], target: ResourceTarget, name: String
    ) throws(APIStatusError)
        -> JSONObject
    {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(body)
        } catch {
            throw .badRequest("error decoding YAML: \(error) (this test double accepts JSON apply bodies only)")
        }
        guard case .object(var object) = parsed else {
            throw .badRequest("error decoding YAML: the apply body must be a map, not \(parsed.typeDescription)")
        }
        guard let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw .badRequest("Object 'apiVersion' is missing in '\(parsed.jsonString())'")
        }
        guard let kind = object["kind"]?.stringValue, !kind.isEmpty else {
            throw .badRequest("Object 'Kind' is missing in '\(parsed.jsonString())'")
        }
        guard apiVersion == target.apiVersion, kind == target.resource.kind else {
            throw .badRequest(
                "the kind (\(kind)) and API version (\(apiVersion)) in the data do not match the expected "
                    + "\(target.resource.kind) (\(target.apiVersion))")
        }
        if let value = object["metadata"], value.objectValue == nil {
            throw .badRequest("metadata must be a map, not \(value.typeDescription)")
        }
        var metadata = object["metadata"]?.objectValue ?? JSONObject()
        if let bodyName = metadata["name"]?.stringValue, bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        metadata["name"] = .string(name)
        if let namespace = target.namespace {
            if let bodyNamespace = metadata["namespace"]?.stringValue, !bodyNamespace.isEmpty,
                bodyNamespace != namespace
            {
                throw .badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            metadata["namespace"] = .string(namespace)
        } else {
            // The real server drops a namespace given to a cluster-scoped object.
            metadata["namespace"] = nil
        }
        object["metadata"] = .object(metadata)
        return object
    }

    /// The applied configuration without what clients cannot set: server metadata and, where a `status`
    /// subresource exists, `status`.
    static func removingServerFields(_ object: JSONObject, removeStatus: Bool) -> JSONObject {
        var object = object
        for field in ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"]
            + ["deletionTimestamp", "deletionGracePeriodSeconds"]
        {
            object.removeValue(at: ["metadata", field])
        }
        if removeStatus { object["status"] = nil }
        return object
    }

    /// Increments `metadata.generation` when anything outside `metadata` and `status` changed.
    static func bumpGeneration(of updated: inout StoredObject, from live: StoredObject) {
        let ignored: Set<String> = ["apiVersion", "kind", "metadata", "status"]
        guard updated.body.removing(ignored) != live.body.removing(ignored) else { return }
        var generation: Int64 = 0
        if case .int(let number)? = live.body.value(at: ["metadata", "generation"]) { generation = number }
        updated.body.setValue(.int(generation + 1), at: ["metadata", "generation"])
    }

    /// `true`/`false` query flags; absent is false.
    static func flag(_ value: String?, name: String) throws(APIStatusError) -> Bool {
        switch value {
        case nil, "false", "0", "": return false
        case "true", "1": return true
        case let value?: throw .badRequest("invalid value for \(name): \"\(value)\"")
        }
    }

    /// `dryRun=All`; any other value is refused as by the real server.
    static func isDryRun(_ value: String?) throws(APIStatusError) -> Bool {
        guard let value, !value.isEmpty else { return false }
        guard value == "All" else {
            throw .badRequest("invalid dry run value: \"\(value)\"; the only supported value is \"All\"")
        }
        return true
    }

    private static let fieldManagerRequired = APIStatusError(
        code: 422, reason: "Invalid",
        message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        details: [
            "group": "meta.k8s.io", "kind": "PatchOptions",
            "causes": [
                APIStatusError.cause(
                    reason: "FieldValueRequired", message: "Required value: is required for apply patch",
                    field: "fieldManager")
            ],
        ])
}
