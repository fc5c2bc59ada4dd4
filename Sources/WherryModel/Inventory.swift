/// One object in a service's inventory: its identity and the apiVersion it was applied with (needed to find its
/// resource again when it is pruned).
public struct InventoryEntry: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var ref: ObjectRef
    /// `apps/v1`, `v1`, ...
    public var apiVersion: String

    public init(ref: ObjectRef, apiVersion: String) {
        self.ref = ref
        self.apiVersion = apiVersion
    }

    public init(_ object: KubeObject) {
        self.init(ref: object.ref, apiVersion: object.apiVersion)
    }

    public var groupVersionKind: GroupVersionKind { GroupVersionKind(apiVersion: apiVersion, kind: ref.kind) }

    /// A stand-in object with this identity, for the calls that map and delete objects.
    public var object: KubeObject {
        var metadata: JSONObject = ["name": .string(ref.name)]
        if !ref.namespace.isEmpty { metadata["namespace"] = .string(ref.namespace) }
        return KubeObject(
            body: ["apiVersion": .string(apiVersion), "kind": .string(ref.kind), "metadata": .object(metadata)])
    }

    public var description: String { ref.description }

    /// `apps/v1 Deployment web/api`, or `v1 Namespace web` for a cluster-scoped object: one line of the stored form.
    public var line: String {
        "\(apiVersion) \(ref.kind) " + (ref.namespace.isEmpty ? ref.name : "\(ref.namespace)/\(ref.name)")
    }

    /// Reads one line of the stored form; `nil` when it is not one.
    public init?(line: some StringProtocol) {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        let place = parts[2].split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(place.count), place.allSatisfy({ !$0.isEmpty }) else { return nil }
        let apiVersion = String(parts[0])
        let kind = String(parts[1])
        // Kinds are CamelCase: a line whose second word is not one is not an entry.
        guard kind.first.map({ $0.isASCII && $0.isUppercase }) == true else { return nil }
        let group = GroupVersionKind(apiVersion: apiVersion, kind: kind).group
        self.init(
            ref: ObjectRef(
                group: group, kind: kind, namespace: place.count == 2 ? String(place[0]) : "",
                name: String(place.last!)),
            apiVersion: apiVersion)
    }

    public static func < (lhs: InventoryEntry, rhs: InventoryEntry) -> Bool { lhs.ref < rhs.ref }
}

/// The set of objects a service applied: what Wherry owns for it, and so what it may prune when they leave Git.
///
/// Identity is group, kind, namespace and name; the version is not part of it, so moving a Deployment from
/// `apps/v1beta2` to `apps/v1` is not a removal.
public struct Inventory: Sendable, Hashable {
    /// Entries in a stable order, one per object.
    public private(set) var entries: [InventoryEntry]

    public init(_ entries: some Sequence<InventoryEntry> = []) {
        var byRef: [ObjectRef: InventoryEntry] = [:]
        // The later entry wins: its apiVersion is the newer one.
        for entry in entries { byRef[entry.ref] = entry }
        self.entries = byRef.values.sorted()
    }

    public init(objects: [KubeObject]) {
        self.init(objects.map(InventoryEntry.init))
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var refs: Set<ObjectRef> { Set(entries.map(\.ref)) }

    public func contains(_ ref: ObjectRef) -> Bool { entries.contains { $0.ref == ref } }

    /// Entries here that `other` does not hold: what left Git between `self` (previous) and `other` (now).
    public func subtracting(_ other: Inventory) -> [InventoryEntry] {
        let keep = other.refs
        return entries.filter { !keep.contains($0.ref) }
    }

    /// Both sets; where both hold an object, `other`'s entry (the newer apiVersion) is kept.
    public func merging(_ other: Inventory) -> Inventory {
        Inventory(entries + other.entries)
    }

    /// The stored form: one ``InventoryEntry/line`` per object, sorted, newline-terminated.
    public var text: String {
        entries.map { $0.line + "\n" }.joined()
    }

    /// Reads the stored form; lines that are not entries are reported by number.
    public static func parse(_ text: String) -> (Inventory, badLines: [Int]) {
        var entries: [InventoryEntry] = []
        var bad: [Int] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            if let entry = InventoryEntry(line: line) { entries.append(entry) } else { bad.append(index + 1) }
        }
        return (Inventory(entries), bad)
    }
}
