/// The identity of one Kubernetes object: group, kind, namespace and name.
///
/// Printed as `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects) in every log line and error.
public struct ObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    /// Object kind.
    public var kind: String
    /// Namespace; empty for cluster-scoped objects or objects whose namespace is not yet known.
    public var namespace: String
    /// Object name.
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        namespace.isEmpty ? "\(kind)/\(name)" : "\(kind)/\(namespace)/\(name)"
    }

    public static func < (lhs: ObjectRef, rhs: ObjectRef) -> Bool {
        (lhs.group, lhs.kind, lhs.namespace, lhs.name) < (rhs.group, rhs.kind, rhs.namespace, rhs.name)
    }
}
