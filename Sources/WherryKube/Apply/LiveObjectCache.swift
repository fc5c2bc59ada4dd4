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
    private var collections: [String: Task<[String: JSONValue], Never>] = [:]
    /// How many LISTs were sent, for tests and benchmarks.
    public private(set) var listCount = 0

    public init(api: any KubeAPI, selector: String) {
        self.api = api
        self.selector = selector
    }

    /// The objects of one collection path, keyed by name. A failed LIST only costs speed: it yields nothing, and
    /// those objects are then checked one by one.
    public func objects(in collection: String) async -> [String: JSONValue] {
        if let task = collections[collection] { return await task.value }
        listCount += 1
        let (api, selector) = (self.api, self.selector)
        let task = Task {
            var byName: [String: JSONValue] = [:]
            for item in (try? await api.list(collection, labelSelector: selector)) ?? [] {
                if let name = item["metadata"]?["name"]?.stringValue { byName[name] = item }
            }
            return byName
        }
        collections[collection] = task
        return await task.value
    }

    /// Forgets every collection; the next read lists again.
    public func invalidate() {
        collections = [:]
    }
}
