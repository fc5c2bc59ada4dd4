public import WherryModel

/// Where a kind lives in the API: its resource name and whether it is namespaced.
public struct ResourceMapping: Sendable, Hashable {
    public var groupVersionKind: GroupVersionKind
    /// Plural resource name, e.g. `deployments`.
    public var resource: String
    /// Whether objects of this kind live in a namespace.
    public var namespaced: Bool

    public init(groupVersionKind: GroupVersionKind, resource: String, namespaced: Bool) {
        self.groupVersionKind = groupVersionKind
        self.resource = resource
        self.namespaced = namespaced
    }

    /// The collection path, in `namespace` when the kind is namespaced.
    public func collectionPath(namespace: String?) -> String {
        let gvk = groupVersionKind
        var path = gvk.group.isEmpty ? "/api/\(gvk.version)" : "/apis/\(gvk.group)/\(gvk.version)"
        if namespaced, let namespace, !namespace.isEmpty { path += "/namespaces/\(namespace)" }
        return path + "/\(resource)"
    }

    /// The path of one object.
    public func objectPath(namespace: String?, name: String) -> String {
        collectionPath(namespace: namespace) + "/\(name)"
    }
}

/// Maps apiVersion and kind to resource paths using the API server's discovery documents.
///
/// Discovery is read once and cached. A kind that is not found triggers one refresh, so a CustomResourceDefinition
/// applied in the same sync becomes usable as soon as the server serves it. Only one refresh runs at a time:
/// concurrent lookups wait for it. A kind still missing after a refresh is remembered as missing for
/// ``missingKindMemory`` (or until ``invalidate()``), so a set full of unknown kinds costs one discovery, not one
/// per object.
public actor RESTMapper {
    private let api: any KubeAPI
    private var mappings: [GroupVersionKind: ResourceMapping] = [:]
    /// One mapping per `group/kind`, at the first version discovery lists (the group's preferred one first).
    private var byGroupKind: [String: ResourceMapping] = [:]
    /// Namespaced resources that can be listed and deleted, one version per group and resource.
    private var namespacedDeletable: [ResourceMapping] = []
    private var loaded = false
    /// Group versions whose discovery failed at the last refresh, with the reason.
    private var unavailable: [String: String] = [:]
    /// Kinds a refresh did not find, and when that refresh finished.
    private var missing: [GroupVersionKind: ContinuousClock.Instant] = [:]
    /// The refresh in flight, shared by every lookup that needs it; it runs in the task of the lookup that started it.
    private let refreshes = SingleFlight<Int, Refresh>()
    /// How long a kind that discovery did not list is taken as missing without asking again.
    public let missingKindMemory: Duration
    /// How many times discovery was read, for tests and metrics.
    public private(set) var discoveryCount = 0

    public init(api: any KubeAPI, missingKindMemory: Duration = .seconds(10)) {
        self.api = api
        self.missingKindMemory = missingKindMemory
    }

    /// The mapping for a kind, refreshing discovery once when it is unknown.
    public func mapping(for gvk: GroupVersionKind) async throws(KubeAPIError) -> ResourceMapping {
        if !loaded { try await refresh() }
        if let mapping = mappings[gvk] { return mapping }
        let recentlyMissing = missing[gvk].map { ContinuousClock.now - $0 < missingKindMemory } ?? false
        if !recentlyMissing {
            try await refresh()
            if let mapping = mappings[gvk] { return mapping }
            missing[gvk] = .now
        }
        if let reason = unavailable[gvk.apiVersion] {
            throw KubeAPIError(
                code: 503, reason: "DiscoveryFailed",
                message: "the API server could not list \(gvk.apiVersion) to find \(gvk.kind): \(reason)",
                request: "discovery")
        }
        throw KubeAPIError(
            code: 404, reason: "NoKindMatch",
            message:
                "the cluster serves no kind \(gvk.kind) in \(gvk.apiVersion); check apiVersion and kind, or install the CustomResourceDefinition first",
            request: "discovery")
    }

    /// The mapping for a group and kind at any version the server serves (the preferred one first): where an object
    /// stored at a version no longer served lives now. Uses what discovery read last; throws `NoKindMatch` only when
    /// no version of the kind is served and every version of its group answered discovery, `DiscoveryFailed` when one
    /// did not (it may serve the kind).
    public func mapping(group: String, kind: String) async throws(KubeAPIError) -> ResourceMapping {
        if !loaded { try await refresh() }
        if let mapping = byGroupKind[group + "/" + kind] { return mapping }
        let down = unavailable.filter { GroupVersionKind(apiVersion: $0.key, kind: kind).group == group }
        if !down.isEmpty {
            throw KubeAPIError(
                code: 503, reason: "DiscoveryFailed",
                message: "the API server could not list \(down.keys.sorted().joined(separator: ", ")) to find "
                    + "\(kind): \(down.values.sorted().joined(separator: "; "))",
                request: "discovery")
        }
        let scope = group.isEmpty ? "the core group" : "group \(group)"
        throw KubeAPIError(
            code: 404, reason: "NoKindMatch", message: "the cluster serves no kind \(kind) in \(scope) at any version",
            request: "discovery")
    }

    /// The mapping for an object, with the error naming the object.
    public func mapping(for object: KubeObject) async throws(KubeAPIError) -> ResourceMapping {
        do {
            return try await mapping(for: object.groupVersionKind)
        } catch {
            var named = error
            named.object = object.ref.description
            throw named
        }
    }

    /// Reads discovery unless it is loaded already; a failure here (unreachable, TLS, 401) concerns every object.
    public func load() async throws(KubeAPIError) {
        if !loaded { try await refresh() }
    }

    /// Every namespaced resource that can be listed and deleted, one version each: what deleting a Namespace
    /// deletes (read-only kinds such as metrics.k8s.io's PodMetrics are not stored in it). Reads discovery anew, since
    /// a kind added since the last read may hold objects there. Throws `DiscoveryFailed` while discovery of any group
    /// version fails (an aggregated API that is down): its objects in the Namespace cannot be seen, so the list
    /// would not be whole.
    public func namespacedResources() async throws(KubeAPIError) -> [ResourceMapping] {
        try await refresh()
        guard unavailable.isEmpty else {
            let names = unavailable.keys.sorted()
            throw KubeAPIError(
                code: 503, reason: "DiscoveryFailed",
                message: "discovery of \(names.joined(separator: ", ")) failed ("
                    + names.map { unavailable[$0] ?? "" }.joined(separator: "; ")
                    + "), so what a namespace holds of those APIs cannot be listed",
                request: "discovery")
        }
        return namespacedDeletable
    }

    /// Forgets what was learnt; the next lookup reads discovery again.
    public func invalidate() {
        loaded = false
        missing = [:]
    }

    /// Reads discovery, joining a refresh already in flight instead of starting another. A cancelled caller stops
    /// at once, with a `Cancelled` error; a refresh it was running is cancelled with it, and callers still waiting
    /// for it start another.
    public func refresh() async throws(KubeAPIError) {
        let outcome = await refreshes.run(0) { () async -> Refresh? in
            let error = await readDiscovery()
            return error?.isCancelled == true ? nil : Refresh(error: error)
        }
        guard let outcome else {
            throw KubeAPIError(code: 0, reason: "Cancelled", message: "the request was cancelled", request: "discovery")
        }
        if let error = outcome.error { throw error }
    }

    /// How one refresh ended.
    private struct Refresh: Sendable {
        var error: KubeAPIError?
    }

    private func readDiscovery() async -> KubeAPIError? {
        do {
            try await readAll()
            return nil
        } catch {
            return error
        }
    }

    /// Reads `/api` and `/apis` and every group version they list, concurrently.
    private func readAll() async throws(KubeAPIError) {
        discoveryCount += 1
        var groupVersions: [String] = []
        let core = try await api.get("/api")
        groupVersions += (core["versions"]?.arrayValue ?? []).compactMap(\.stringValue)
        let groups = try await api.get("/apis")
        for group in groups["groups"]?.arrayValue ?? [] {
            for version in group["versions"]?.arrayValue ?? [] {
                if let groupVersion = version["groupVersion"]?.stringValue { groupVersions.append(groupVersion) }
            }
        }
        let api = self.api
        let lists = await concurrentMap(groupVersions, limit: 8) { groupVersion in
            let path = groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)"
            // One unavailable aggregated API (metrics-server down) must not hide every other kind.
            return (groupVersion, await Self.fetch(path, from: api))
        }
        var fresh: [GroupVersionKind: ResourceMapping] = [:]
        var groupKinds: [String: ResourceMapping] = [:]
        var deletable: [String: ResourceMapping] = [:]
        unavailable = [:]
        for (groupVersion, outcome) in lists {
            let list: JSONValue
            switch outcome {
            case .success(let value): list = value
            case .failure(let error) where error.isNotFound:
                // Listed a moment ago, served no more (a CRD version just stopped being served): nothing to see.
                continue
            case .failure(let error):
                unavailable[groupVersion] = error.message
                continue
            }
            for resource in list["resources"]?.arrayValue ?? [] {
                guard let name = resource["name"]?.stringValue, !name.contains("/"),
                    let kind = resource["kind"]?.stringValue
                else { continue }
                let gvk = GroupVersionKind(apiVersion: groupVersion, kind: kind)
                let mapping = ResourceMapping(
                    groupVersionKind: gvk, resource: name, namespaced: resource["namespaced"] == .bool(true))
                fresh[gvk] = mapping
                if groupKinds[gvk.group + "/" + kind] == nil { groupKinds[gvk.group + "/" + kind] = mapping }
                let verbs = resource["verbs"]?.arrayValue ?? []
                let key = gvk.group + "/" + name
                if mapping.namespaced, verbs.contains("list"), verbs.contains("delete"), deletable[key] == nil {
                    deletable[key] = mapping
                }
            }
        }
        mappings = fresh
        byGroupKind = groupKinds
        namespacedDeletable = deletable.values.sorted { $0.resource < $1.resource }
        loaded = true
    }

    private static func fetch(_ path: String, from api: any KubeAPI) async -> Result<JSONValue, KubeAPIError> {
        do {
            return .success(try await api.get(path))
        } catch {
            return .failure(error)
        }
    }
}
