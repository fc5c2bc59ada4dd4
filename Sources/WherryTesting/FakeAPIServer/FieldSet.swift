import WherryModel

/// The leaf field paths one field manager owns, as server-side apply tracks them.
///
/// Maps are walked into, except atomic ones (a Service's selector); anything else (scalars, lists, empty maps) is a
/// leaf. Lists are atomic here, which is what server-side apply does for lists without merge keys.
struct FieldSet: Sendable, Hashable {
    /// One path, e.g. `["spec", "replicas"]`.
    typealias Path = [String]

    /// The owned paths.
    private(set) var paths: Set<Path>

    /// A set holding the given paths.
    init(_ paths: some Sequence<Path> = []) { self.paths = Set(paths) }

    /// Whether nothing is owned.
    var isEmpty: Bool { paths.isEmpty }

    /// The leaves of an object, leaving out its identity (`apiVersion`, `kind`, `metadata.name`,
    /// `metadata.namespace`) and the fields the server manages. A map at one of the `atomic` paths is one leaf.
    static func leaves(of object: JSONObject, atomic: Set<Path> = []) -> FieldSet {
        var result: [Path] = []
        collect(.object(object), prefix: [], atomic: atomic, into: &result)
        return FieldSet(result.filter { !isIdentityOrServerField($0) })
    }

    /// Whether `path` is owned, or overlaps an owned path (one is a prefix of the other).
    func overlaps(_ path: Path) -> Bool {
        paths.contains { Self.isPrefix($0, of: path) || Self.isPrefix(path, of: $0) }
    }

    /// Whether `path`, or a path below it, is owned.
    func ownsAtOrBelow(_ path: Path) -> Bool {
        paths.contains { Self.isPrefix(path, of: $0) }
    }

    /// The set without every path that overlaps one of `others`.
    func removingOverlaps(with others: some Sequence<Path>) -> FieldSet {
        let others = Array(others)
        return FieldSet(
            paths.filter { owned in !others.contains { Self.isPrefix(owned, of: $0) || Self.isPrefix($0, of: owned) } })
    }

    /// The set without the paths that do not exist in `object`.
    func keepingExisting(in object: JSONObject) -> FieldSet {
        FieldSet(paths.filter { object.value(at: $0) != nil })
    }

    /// Both sets together.
    func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }

    /// The paths not in `other`.
    func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }

    /// The paths in a stable order, for messages.
    var sorted: [Path] { paths.sorted { $0.lexicographicallyPrecedes($1) } }

    /// The `FieldsV1` encoding: nested maps keyed `f:<name>`, a leaf is `{}`, and a path that is both a leaf and
    /// a parent carries a `"."` member.
    var fieldsV1: JSONValue {
        var root = JSONObject()
        for path in sorted { Self.insert(path[...], into: &root) }
        return .object(root)
    }

    /// The path as the API server prints it in conflicts: `.spec.replicas`.
    static func display(_ path: Path) -> String { path.map { "." + $0 }.joined() }

    /// Whether `prefix` is `path` or one of its ancestors.
    static func isPrefix(_ prefix: Path, of path: Path) -> Bool {
        prefix.count <= path.count && path.starts(with: prefix)
    }

    /// Appends the leaf paths below `prefix`.
    private static func collect(_ value: JSONValue, prefix: Path, atomic: Set<Path>, into result: inout [Path]) {
        guard case .object(let object) = value, !object.isEmpty, !atomic.contains(prefix) else {
            if !prefix.isEmpty { result.append(prefix) }
            return
        }
        for (key, child) in object.members { collect(child, prefix: prefix + [key], atomic: atomic, into: &result) }
    }

    /// Metadata the server sets or that names the object; never owned by a manager.
    private static let serverMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
        "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink",
    ]

    /// Whether a path is identity or server-managed metadata.
    private static func isIdentityOrServerField(_ path: Path) -> Bool {
        if path == ["apiVersion"] || path == ["kind"] { return true }
        return path.count >= 2 && path[0] == "metadata" && serverMetadata.contains(path[1])
    }

    /// Adds one path to a `FieldsV1` map.
    private static func insert(_ path: ArraySlice<String>, into object: inout JSONObject) {
        guard let first = path.first else { return }
        let key = "f:" + first
        var child = object[key]?.objectValue ?? JSONObject()
        if path.count == 1 {
            if !child.isEmpty { child["."] = [:] }
        } else {
            if object[key] != nil, child.isEmpty { child["."] = [:] }
            insert(path.dropFirst(), into: &child)
        }
        object[key] = .object(child)
    }
}
