/// The API group, version and kind of a Kubernetes object, parsed from `apiVersion` and `kind`.
public struct GroupVersionKind: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`v1`).
    public var group: String
    /// API version within the group, e.g. `v1`.
    public var version: String
    /// Object kind, e.g. `Deployment`.
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    /// Splits an `apiVersion` such as `apps/v1` or `v1`.
    public init(apiVersion: String, kind: String) {
        if let slash = apiVersion.firstIndex(of: "/") {
            group = String(apiVersion[..<slash])
            version = String(apiVersion[apiVersion.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        self.kind = kind
    }

    /// The `apiVersion` string: `group/version`, or `version` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { "\(apiVersion), Kind=\(kind)" }
}
