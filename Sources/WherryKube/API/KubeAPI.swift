public import WherryModel

/// The Kubernetes REST calls Wherry makes. Paths are absolute API paths such as `/api/v1/namespaces/a/configmaps/b`.
public protocol KubeAPI: Sendable {
    /// The server's base URL, for messages.
    var server: String { get }

    /// `GET` one object or document.
    func get(_ path: String) async throws(KubeAPIError) -> JSONValue

    /// `GET` a collection, following `continue` tokens until every page is read.
    func list(_ path: String, labelSelector: String?) async throws(KubeAPIError) -> [JSONValue]

    /// `GET` a whole collection a page of at most `pageSize` items at a time, each page handed to `page` before the
    /// next is read (a caller that keeps less than the objects never holds the whole collection); returns the
    /// resourceVersion to watch it from (see the default in `KubeAPI+Watch`).
    func listPages(
        _ path: String, pageSize: Int, _ page: ([JSONValue]) -> Void
    ) async throws(KubeAPIError) -> String

    /// `GET` a collection with `watch=1` from a resourceVersion (see the default in `KubeAPI+Watch`).
    func watch(_ path: String, resourceVersion: String) -> AsyncThrowingStream<WatchEvent, any Error>

    /// Server-side apply: `PATCH` with `application/apply-patch+yaml`.
    func apply(_ path: String, object: JSONValue, options: ApplyOptions) async throws(KubeAPIError) -> ApplyResponse

    /// `DELETE` one object.
    func delete(_ path: String, options: DeleteOptions) async throws(KubeAPIError)

    /// `POST` an object to its collection: creates it; 409 `AlreadyExists` when it exists.
    func create(
        _ collectionPath: String, object: JSONValue, fieldManager: String
    ) async throws(KubeAPIError) -> JSONValue

    /// `PUT` an object: replaces it; 409 `Conflict` when its `metadata.resourceVersion` is not the stored one
    /// (optimistic concurrency, what a Lease's leader election rests on).
    func update(_ path: String, object: JSONValue, fieldManager: String) async throws(KubeAPIError) -> JSONValue
}

/// The API server's answer to an apply.
public struct ApplyResponse: Sendable {
    /// The object as stored (or as it would be, for a dry run).
    public var object: JSONValue
    /// Whether the apply created the object (HTTP 201).
    public var created: Bool

    public init(object: JSONValue, created: Bool) {
        self.object = object
        self.created = created
    }
}

/// How a server-side apply is made.
public struct ApplyOptions: Sendable, Hashable {
    /// The field manager that owns what is applied.
    public var fieldManager: String
    /// Take fields owned by other managers (Git wins).
    public var force: Bool
    /// Validate and compute the result without storing it (`dryRun=All`).
    public var dryRun: Bool

    public init(fieldManager: String = "wherry", force: Bool = true, dryRun: Bool = false) {
        self.fieldManager = fieldManager
        self.force = force
        self.dryRun = dryRun
    }
}

/// How an object is deleted.
public struct DeleteOptions: Sendable, Hashable {
    /// What happens to dependents.
    public enum Propagation: String, Sendable {
        case foreground = "Foreground"
        case background = "Background"
        case orphan = "Orphan"
    }

    public var propagation: Propagation
    public var dryRun: Bool
    /// Delete only the object with this uid: one recreated since it was checked is left alone (409 Conflict).
    public var preconditionUID: String?

    public init(propagation: Propagation = .background, dryRun: Bool = false, preconditionUID: String? = nil) {
        self.propagation = propagation
        self.dryRun = dryRun
        self.preconditionUID = preconditionUID
    }
}
