/// What happened to one object in a sync.
public enum ApplyAction: String, Sendable, Hashable, CaseIterable {
    /// It did not exist and was created.
    case created
    /// It existed and differed; it was changed.
    case configured
    /// It already matched Git; nothing was written.
    case unchanged
    /// It was deleted.
    case deleted
    /// An opt-out annotation kept Wherry from writing it.
    case skipped
    /// It left Git but was not pruned; the entry's note says why (protected, not ours, a Namespace in use).
    case kept
}

/// One object's outcome.
public struct ChangeSetEntry: Sendable, Hashable, CustomStringConvertible {
    public var ref: ObjectRef
    public var action: ApplyAction
    /// Why, when the action needs a reason (`kept`).
    public var note: String?

    public init(ref: ObjectRef, action: ApplyAction, note: String? = nil) {
        self.ref = ref
        self.action = action
        self.note = note
    }

    /// The note of an object a dry run could not send to the server: its Namespace or CRD is created by the same
    /// sync, so the server cannot check it before that is written.
    public static let notValidated = "not validated: its Namespace or CRD is created by this sync"

    /// `Deployment/web/api configured`, or `Namespace/web kept (holds 2 objects Wherry does not own)`.
    public var description: String { "\(ref) \(action.rawValue)" + (note.map { " (\($0))" } ?? "") }
}

/// The outcome of applying a set of objects, in the order they were applied.
public struct ChangeSet: Sendable, Hashable {
    public var entries: [ChangeSetEntry]
    /// The `metadata.generation` each applied object had once the apply ended (written or found unchanged): a
    /// health check that sees an older generation has not seen this apply yet. A fact about the server, not part of
    /// the change: two change sets with equal entries are equal.
    public var generations: [ObjectRef: Int64] = [:]

    public init(entries: [ChangeSetEntry] = []) {
        self.entries = entries
    }

    public static func == (lhs: ChangeSet, rhs: ChangeSet) -> Bool { lhs.entries == rhs.entries }

    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }

    /// How many objects had each action.
    public var counts: [ApplyAction: Int] {
        entries.reduce(into: [:]) { $0[$1.action, default: 0] += 1 }
    }

    /// Whether anything was (or, in a dry run, would be) written.
    public var hasChanges: Bool {
        entries.contains { $0.action != .unchanged && $0.action != .skipped && $0.action != .kept }
    }

    /// `3 created, 1 configured, 10 unchanged` (only actions that occurred, in a fixed order).
    public var summary: String { ApplyAction.summary(counts) }
}

extension ApplyAction {
    /// `3 created, 1 configured, 10 unchanged` for counts per action (only those present, in a fixed order).
    public static func summary(_ counts: [ApplyAction: Int]) -> String {
        let parts = allCases.compactMap { action in counts[action].map { "\($0) \(action.rawValue)" } }
        return parts.isEmpty ? "no objects" : parts.joined(separator: ", ")
    }

    /// Counts per action as a JSON object in a fixed order, e.g. `{"created": 2, "unchanged": 5}`.
    public static func json(_ counts: [ApplyAction: Int]) -> JSONValue {
        var object = JSONObject()
        for action in allCases { if let count = counts[action] { object[action.rawValue] = .int(Int64(count)) } }
        return .object(object)
    }

    /// Counts per action read back from ``json(_:)``; unknown members are left out.
    public static func counts(fromJSON value: JSONValue?) -> [ApplyAction: Int] {
        var counts: [ApplyAction: Int] = [:]
        for (key, member) in value?.objectValue?.members ?? [] {
            if let action = ApplyAction(rawValue: key), case .int(let count) = member { counts[action] = Int(count) }
        }
        return counts
    }
}
