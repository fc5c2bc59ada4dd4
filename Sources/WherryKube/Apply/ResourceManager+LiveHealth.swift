public import WherryModel

extension ResourceManager {
    /// The live health of the objects that have a health check (``hasHealthCheck(_:)``), at most `limit` of them,
    /// `concurrency` GETs at a time; objects without a check are left out (healthy once applied). For the dashboard:
    /// one look, no waiting.
    public func liveHealth(
        of entries: [InventoryEntry], limit: Int = 300, concurrency: Int = 16
    ) async -> [ObjectRef: Result<Health, KubeAPIError>] {
        let asked = Array(entries.filter { Self.hasHealthCheck($0.ref) }.prefix(limit))
        let answers = await concurrentMap(asked, limit: concurrency) { entry in (entry.ref, await health(of: entry)) }
        return Dictionary(answers, uniquingKeysWith: { $1 })
    }
}
