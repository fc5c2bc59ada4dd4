public import WherryModel

/// One change a watch reports.
public struct WatchEvent: Sendable {
    /// What happened.
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Nothing changed; the watch has seen everything up to the object's resourceVersion.
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    /// The object after the change (before it, for a deletion).
    public var object: JSONValue

    public init(kind: Kind, object: JSONValue) {
        self.kind = kind
        self.object = object
    }

    /// The object's `metadata.resourceVersion`.
    public var resourceVersion: String? { object["metadata"]?["resourceVersion"]?.stringValue }
}

extension KubeAPI {
    /// Every item of a collection, as one page, and no resourceVersion: by default a client that cannot tell one
    /// cannot watch, and callers poll it instead.
    public func listPages(
        _ path: String, pageSize: Int, _ page: ([JSONValue]) -> Void
    ) async throws(KubeAPIError) -> String {
        page(try await list(path, labelSelector: nil))
        return ""
    }

    /// Changes to a collection after `resourceVersion`, until the server ends the watch (the stream then finishes)
    /// or it fails with a ``KubeAPIError`` (410 `Expired` when that resourceVersion is too old: list again). By
    /// default no watch: the stream fails with 405 at once, and callers poll instead.
    public func watch(_ path: String, resourceVersion: String) -> AsyncThrowingStream<WatchEvent, any Error> {
        AsyncThrowingStream { continuation in
            continuation.finish(
                throwing: KubeAPIError(
                    code: 405, reason: "MethodNotAllowed", message: "this client cannot watch",
                    request: "GET \(path)?watch=1"))
        }
    }
}
