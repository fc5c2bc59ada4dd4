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

/// What one read of a live object says: its health and the objects that own it.
public struct LiveObjectState: Sendable, Hashable {
    /// `nil` for a kind without a health check (healthy once applied).
    public var health: Health?
    /// `Kind/name` of each owner reference.
    public var owners: [String]

    public init(health: Health?, owners: [String]) {
        self.health = health
        self.owners = owners
    }
}

extension ResourceManager {
    /// One GET per object (at most `limit` of them, `concurrency` at a time): whether it exists, its health when its
    /// kind has a check (``hasHealthCheck(_:)``), and its owner references. For `wherry tree`.
    public func liveState(
        of entries: [InventoryEntry], limit: Int = 500, concurrency: Int = 16
    ) async -> [ObjectRef: Result<LiveObjectState, KubeAPIError>] {
        let asked = Array(entries.prefix(limit))
        let answers = await concurrentMap(asked, limit: concurrency) { entry in
            (entry.ref, await liveState(of: entry))
        }
        return Dictionary(answers, uniquingKeysWith: { $1 })
    }

    private func liveState(of entry: InventoryEntry) async -> Result<LiveObjectState, KubeAPIError> {
        do {
            var live = try await api.get(try await objectPath(of: entry))
            if case .object(var body) = live, body["kind"] == nil {
                body["kind"] = .string(entry.ref.kind)
                body["apiVersion"] = .string(entry.apiVersion)
                live = .object(body)
            }
            let owners = (live["metadata"]?["ownerReferences"]?.arrayValue ?? []).map { owner in
                "\(owner["kind"]?.stringValue ?? "?")/\(owner["name"]?.stringValue ?? "?")"
            }
            return .success(
                LiveObjectState(health: Self.hasHealthCheck(entry.ref) ? Health.of(live) : nil, owners: owners))
        } catch {
            return .failure(error)
        }
    }
}
