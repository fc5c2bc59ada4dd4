public import WherryModel

/// A collection read whole, with the resourceVersion a watch of it continues from.
public struct ListSnapshot: Sendable {
    public var items: [JSONValue]
    /// The list's `metadata.resourceVersion`; empty when the source cannot tell one (then it cannot be watched).
    public var resourceVersion: String

    public init(items: [JSONValue], resourceVersion: String) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

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
    /// Every item of a collection and the resourceVersion to watch it from. By default the items alone: a client
    /// that cannot tell a resourceVersion cannot watch, and callers poll it instead.
    public func listSnapshot(_ path: String) async throws(KubeAPIError) -> ListSnapshot {
        ListSnapshot(items: try await list(path, labelSelector: nil), resourceVersion: "")
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
