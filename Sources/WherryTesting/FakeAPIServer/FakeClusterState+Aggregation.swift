import WherryModel

/// Aggregated APIs: group versions an extension API server serves through the API server (metrics.k8s.io from
/// metrics-server). A test registers read-only resources as served by a working extension server; an `APIService`
/// object with a `spec.service` registers a group version whose server this double does not have, so, as the real
/// aggregator does while that Service is missing or down, `/apis` lists the group but its discovery document and
/// every path below it answer 503 with the plain-text body `service unavailable`.
extension FakeClusterState {
    /// Group versions (`group/version`) that APIService objects send to an extension server that is not there.
    var unavailableGroupVersions: Set<String> {
        var down: Set<String> = []
        for key in keys(of: APIResource.apiServices, namespace: nil) {
            guard let stored = objects[key], stored.body["spec"]?["service"]?.objectValue != nil,
                let group = stored.body["spec"]?["group"]?.stringValue, !group.isEmpty,
                let version = stored.body["spec"]?["version"]?.stringValue
            else { continue }
            if !aggregatedResources.contains(where: { $0.group == group && $0.versions.contains(version) }) {
                down.insert("\(group)/\(version)")
            }
        }
        return down
    }

    /// Throws what the aggregator answers for a request below an unavailable group version.
    func checkAvailable(group: String, version: String) throws(APIStatusError) {
        guard !group.isEmpty, unavailableGroupVersions.contains("\(group)/\(version)") else { return }
        throw APIStatusError(
            code: 503, reason: "ServiceUnavailable", message: "service unavailable", plainText: "service unavailable\n")
    }
}

extension FakeAPIServer {
    /// Serves a read-only resource as a working aggregated API does (metrics.k8s.io's `PodMetrics`: verbs `get` and
    /// `list` only, writes answer 405). Its objects are added with ``put(_:manager:)``.
    public func serveReadOnlyResource(group: String, version: String, name: String, kind: String, namespaced: Bool) {
        state.withLock { state in
            state.aggregatedResources.append(
                APIResource(
                    group: group, versions: [version], name: name, singularName: "", kind: kind,
                    namespaced: namespaced, hasStatus: false, readOnly: true))
            state.revision += 1
        }
    }
}
