public import WherryModel

/// Live objects read with one LIST per collection (resource and namespace) and label selector, shared by every
/// apply that uses the same cache: a sync of 200 services on one namespace lists each kind there once, not 200
/// times. Concurrent readers of one collection wait for the same LIST.
///
/// A snapshot: objects written after the LIST are not seen. That only costs a needless comparison, never a wrong
/// answer: the decision to write rests on the dry run (see ``OwnedFields``), and objects not found here are asked
/// for by name when it matters.
public actor LiveObjectCache {
    /// The label selector of every LIST, e.g. `app.kubernetes.io/managed-by=wherry`.
    public let selector: String
    private let api: any KubeAPI
    private var collections: [String: [String: JSONValue]] = [:]
    /// LISTs in flight, shared by concurrent readers of one collection; each runs in its first reader's task.
    private let lists = SingleFlight<String, [String: JSONValue]>()
    /// Bumped by ``invalidate()``, so a LIST sent before it is not kept.
    private var generation = 0
    /// How many LISTs were sent, for tests and benchmarks.
    public private(set) var listCount = 0

    public init(api: any KubeAPI, selector: String) {
        self.api = api
        self.selector = selector
    }

    /// The objects of one collection path, keyed by name. A failed LIST only costs speed: it yields nothing, and
    /// those objects are then checked one by one. A cancelled reader gets nothing at once; the LIST it was sending
    /// is cancelled with it, and other readers of that collection send it again.
    public func objects(in collection: String) async -> [String: JSONValue] {
        if let cached = collections[collection] { return cached }
        let objects = await lists.run(collection) { () async -> [String: JSONValue]? in
            // A reader that waited for a cancelled LIST may find another reader's since.
            if let cached = collections[collection] { return cached }
            return await list(collection)
        }
        return objects ?? [:]
    }

    /// Lists one collection and keeps the objects by name; `nil` when cancelled.
    private func list(_ collection: String) async -> [String: JSONValue]? {
        listCount += 1
        let started = generation
        let items: [JSONValue]
        do {
            items = try await api.list(collection, labelSelector: selector)
        } catch  where error.isCancelled {
            return nil
        } catch {
            items = []
        }
        var byName: [String: JSONValue] = [:]
        for item in items {
            if let name = item["metadata"]?["name"]?.stringValue { byName[name] = item }
        }
        if started == generation { collections[collection] = byName }
        return byName
    }

    /// Forgets every collection; the next read lists again.
    public func invalidate() {
        collections = [:]
        generation += 1
    }
}
