import Foundation
import WherryModel

/// The in-memory cluster behind ``FakeAPIServer``: objects, the resourceVersion counter, and the resources served.
///
/// Time-driven changes (CRDs becoming established, lingering deletions finishing) happen lazily in ``tick(now:)``,
/// which runs before every request and every direct store access, so no background task is needed.
struct FakeClusterState: Sendable {
    /// Every object, lingering deletions included.
    var objects: [StoredObject.Key: StoredObject] = [:]
    /// The last resourceVersion handed out.
    var revision = 0
    /// CustomResourceDefinitions (by name) waiting to become established, and when they will.
    var pendingCRDs: [String: ContinuousClock.Instant] = [:]
    /// How long a new CRD waits before it is established.
    var crdEstablishDelay: Duration = .zero
    /// How long a deleted object lingers with `metadata.deletionTimestamp` before it is gone.
    var deletionDelay: Duration = .zero
    /// Deployments whose controller write is due, and when.
    var pendingControllerWrites: [StoredObject.Key: ContinuousClock.Instant] = [:]
    /// When each Deployment's current spec was written: its rollout's progress deadline counts from there.
    var rolloutStarted: [StoredObject.Key: ContinuousClock.Instant] = [:]
    /// How long after a Deployment's spec changes its controller writes status and the revision annotation.
    var controllerDelay: Duration = .zero
    /// The longest a watch stays open (see ``FakeAPIServer/maxWatchDuration``).
    var maxWatchDuration: Duration?
    /// Watches from a resourceVersion at or below this get 410 `Expired`.
    var compactedRevision = 0
    /// Objects removed, newest last, with the revision current then: what a watch from an older version reports as
    /// deleted. Bounded.
    var tombstones: [(revision: Int, key: StoredObject.Key, body: JSONObject)] = []
    /// Read-only resources of aggregated APIs whose extension server answers (see ``FakeAPIServer/serveReadOnlyResource(group:version:name:kind:namespaced:)``).
    var aggregatedResources: [APIResource] = []
    /// What SelfSubjectAccessReviews answer `allowed: false` for.
    var deniedAccess: [DeniedAccess] = []

    /// Namespaces every cluster has from the start; the first three cannot be deleted.
    static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// A cluster holding only the system namespaces, as a new real cluster does.
    init() {
        for name in Self.systemNamespaces {
            let target = ResourceTarget(resource: APIResource.namespaces, version: "v1", namespace: nil, name: name)
            _ = try? create(
                ["metadata": ["name": .string(name)]], key: target.key(name: name), target: target, managers: [],
                dryRun: false, now: .now)
        }
    }

    /// The next resourceVersion; bumps the counter.
    mutating func nextResourceVersion() -> String {
        revision += 1
        return String(revision)
    }

    /// Every resource served now: the built-ins, the resources of established CRDs and those of aggregated APIs.
    var resources: [APIResource] {
        APIResource.builtins + customResources + aggregatedResources
    }

    /// The resource with that group and plural name serving `version`.
    func resource(group: String, version: String, name: String) -> APIResource? {
        resources.first { $0.group == group && $0.name == name && $0.versions.contains(version) }
    }

    /// The resource with that group and kind serving `version`.
    func resource(group: String, version: String, kind: String) -> APIResource? {
        resources.first { $0.group == group && $0.kind == kind && $0.versions.contains(version) }
    }

    /// Applies what time has brought: CRDs established, lingering deletions finished.
    mutating func tick(now: ContinuousClock.Instant) {
        for (name, due) in pendingCRDs.sorted(by: { $0.key < $1.key }) where due <= now {
            pendingCRDs[name] = nil
            establishCRD(named: name)
        }
        for (key, due) in pendingControllerWrites.sorted(by: { $0.key < $1.key }) where due <= now {
            pendingControllerWrites[key] = nil
            runDeploymentController(key, now: now)
        }
        let expired = objects.filter { $0.value.removeAt.map { $0 <= now } ?? false }.keys.sorted()
        guard !expired.isEmpty else { return }
        for key in expired { removeNow(key) }
        revision += 1
    }

    /// Removes an object and what depends on it (a namespace's content, a CRD's objects) without a new revision.
    mutating func removeNow(_ key: StoredObject.Key) {
        guard let removed = objects.removeValue(forKey: key) else { return }
        remember(removed, key: key)
        if key.group.isEmpty, key.resource == "namespaces" {
            for child in objects.keys where child.namespace == key.name { remember(objects[child]!, key: child) }
            for child in objects.keys where child.namespace == key.name { objects[child] = nil }
        }
        if key.group == APIResource.customResourceDefinitions.group,
            key.resource == APIResource.customResourceDefinitions.name
        {
            pendingCRDs[key.name] = nil
            let group = removed.body.value(at: ["spec", "group"])?.stringValue ?? ""
            let plural = removed.body.value(at: ["spec", "names", "plural"])?.stringValue ?? ""
            for child in objects.keys where child.group == group && child.resource == plural { objects[child] = nil }
        }
    }

    /// Keeps a removed object for watches that resume from before its removal.
    private mutating func remember(_ object: StoredObject, key: StoredObject.Key) {
        tombstones.append((revision, key, object.body))
        if tombstones.count > 2000 { tombstones.removeFirst(tombstones.count - 2000) }
    }

    /// The objects of a resource, optionally in one namespace, sorted by namespace and name.
    func keys(of resource: APIResource, namespace: String?) -> [StoredObject.Key] {
        objects.keys.filter { key in
            key.group == resource.group && key.resource == resource.name
                && (namespace.map { key.namespace == $0 } ?? true)
        }
        .sorted()
    }

    /// Now as the API server writes times: RFC 3339 in UTC, whole seconds.
    static func timestamp() -> String {
        Date().formatted(.iso8601)
    }
}
