public import Foundation
public import WherryModel

/// How a reconcile attempt ended.
public enum ReconcileResult: String, Sendable, Hashable, Codable {
    case succeeded
    case failed
    /// Applied, but its health wait gave way to a newer commit that changes the service (applied right after);
    /// neither a success (health was not seen) nor a failure (nothing failed).
    case superseded
}

/// One reconcile attempt of one service, as the controller reports it to a ``StatusStore``.
public struct ReconcileAttempt: Sendable, Hashable {
    public var service: String
    /// The commit the attempt applied (or tried to).
    public var revision: String
    /// Git tree id of the service's directory at that commit, when rendering got that far.
    public var treeHash: String?
    public var result: ReconcileResult
    /// What went wrong, already free of secrets; `nil` on success.
    public var error: String?
    /// Objects per action.
    public var counts: [ApplyAction: Int]
    public var startedAt: Date
    /// How long the attempt took, in seconds.
    public var durationSeconds: Double
    /// Objects a drift check found changed or missing in the cluster and put back (`Kind/ns/name`).
    public var drifted: [String] = []

    public init(
        service: String, revision: String, treeHash: String? = nil, result: ReconcileResult, error: String? = nil,
        counts: [ApplyAction: Int] = [:], startedAt: Date, durationSeconds: Double, drifted: [String] = []
    ) {
        self.drifted = drifted
        self.service = service
        self.revision = revision
        self.treeHash = treeHash
        self.result = result
        self.error = error
        self.counts = counts
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
    }
}

/// What the store knows about one service: the last successful apply, and the last attempt.
public struct ServiceStatus: Sendable, Hashable {
    public var service: String
    /// The last revision applied successfully; a failed attempt never moves it.
    public var lastAppliedRevision: String?
    /// The tree id applied with it: an unchanged tree needs no new apply.
    public var lastAppliedTreeHash: String?
    public var lastAppliedAt: Date?
    public var lastAttemptAt: Date
    public var lastResult: ReconcileResult
    public var lastError: String?
    /// Objects per action in the last attempt.
    public var counts: [ApplyAction: Int]
    public var durationSeconds: Double
    /// Objects put back by drift checks since the service was first applied.
    public var driftCorrections = 0
    /// The objects the latest drift check that found any put back (at most ``StatusRules/driftListLimit``).
    public var lastDrift: [String] = []
    public var lastDriftAt: Date?
    /// The last attempt that wrote something (created, configured or deleted an object, or put drift back). A check
    /// that found everything as Git says moves ``lastAppliedAt`` (the last successful check), never this.
    public var lastWriteAt: Date?
    /// The revision of that write.
    public var lastWriteRevision: String?

    public init(
        service: String, lastAppliedRevision: String? = nil, lastAppliedTreeHash: String? = nil,
        lastAppliedAt: Date? = nil, lastAttemptAt: Date, lastResult: ReconcileResult, lastError: String? = nil,
        counts: [ApplyAction: Int] = [:], durationSeconds: Double = 0
    ) {
        self.service = service
        self.lastAppliedRevision = lastAppliedRevision
        self.lastAppliedTreeHash = lastAppliedTreeHash
        self.lastAppliedAt = lastAppliedAt
        self.lastAttemptAt = lastAttemptAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.counts = counts
        self.durationSeconds = durationSeconds
    }
}

/// One line of a service's history. Attempts with the same revision, result and error collapse into one line
/// that counts them and keeps the first and last time (as Flux deduplicates its history), so a failure retried
/// every few seconds does not push everything else out.
public struct HistoryEntry: Sendable, Hashable {
    public var revision: String
    public var result: ReconcileResult
    public var error: String?
    public var firstAt: Date
    public var lastAt: Date
    /// Attempts this line stands for.
    public var count: Int
    /// Objects per action in the latest of them.
    public var counts: [ApplyAction: Int]
    public var durationSeconds: Double
    /// Objects a drift check put back (`Kind/ns/name`): a correction is a line of its own, never counted on another.
    public var drifted: [String] = []

    public init(
        revision: String, result: ReconcileResult, error: String?, firstAt: Date, lastAt: Date, count: Int,
        counts: [ApplyAction: Int], durationSeconds: Double, drifted: [String] = []
    ) {
        self.drifted = drifted
        self.revision = revision
        self.result = result
        self.error = error
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.count = count
        self.counts = counts
        self.durationSeconds = durationSeconds
    }
}

/// The rules every ``StatusStore`` follows, as pure functions.
public enum StatusRules {
    /// History lines kept per service.
    public static let historyLimit = 20
    /// Drifted objects named in a status.
    public static let driftListLimit = 20

    /// The status after an attempt: the attempt's outcome, and the applied revision moved only on success.
    public static func status(after attempt: ReconcileAttempt, previous: ServiceStatus?) -> ServiceStatus {
        var status =
            previous
            ?? ServiceStatus(service: attempt.service, lastAttemptAt: attempt.startedAt, lastResult: attempt.result)
        status.lastAttemptAt = attempt.startedAt
        status.lastResult = attempt.result
        status.lastError = attempt.error
        status.counts = attempt.counts
        status.durationSeconds = attempt.durationSeconds
        if !attempt.drifted.isEmpty {
            status.driftCorrections += attempt.drifted.count
            status.lastDrift = Array(attempt.drifted.prefix(driftListLimit))
            status.lastDriftAt = attempt.startedAt
        }
        if wrote(attempt) {
            status.lastWriteAt = attempt.startedAt
            status.lastWriteRevision = attempt.revision
        }
        if attempt.result == .succeeded {
            status.lastAppliedRevision = attempt.revision
            status.lastAppliedTreeHash = attempt.treeHash
            status.lastAppliedAt = attempt.startedAt
        }
        return status
    }

    /// Whether an attempt wrote to the cluster: it created, configured or deleted an object, or put drift back.
    public static func wrote(_ attempt: ReconcileAttempt) -> Bool {
        !attempt.drifted.isEmpty
            || [.created, .configured, .deleted].contains { (attempt.counts[$0] ?? 0) > 0 }
    }

    /// Whether an attempt repeats the newest history line (and so is counted on it). A successful apply that wrote
    /// something (a drift correction too) never repeats anything and is never repeated: it is a line of its own, so
    /// the checks that found nothing to do (`succeeded ×4`) never hide it.
    public static func repeats(_ attempt: ReconcileAttempt, _ newest: HistoryEntry) -> Bool {
        newest.revision == attempt.revision && newest.result == attempt.result && newest.error == attempt.error
            && !(attempt.result == .succeeded && wrote(attempt)) && !(newest.result == .succeeded && wrote(newest))
    }

    /// Whether a history line stands for an attempt that wrote to the cluster.
    static func wrote(_ entry: HistoryEntry) -> Bool {
        !entry.drifted.isEmpty || [.created, .configured, .deleted].contains { (entry.counts[$0] ?? 0) > 0 }
    }

    /// The history (newest first) after an attempt, deduplicated and cut to ``historyLimit``.
    public static func history(after attempt: ReconcileAttempt, previous: [HistoryEntry]) -> [HistoryEntry] {
        var history = previous
        if var newest = history.first, repeats(attempt, newest) {
            newest.count += 1
            newest.lastAt = attempt.startedAt
            newest.counts = attempt.counts
            newest.durationSeconds = attempt.durationSeconds
            history[0] = newest
        } else {
            history.insert(
                HistoryEntry(
                    revision: attempt.revision, result: attempt.result, error: attempt.error,
                    firstAt: attempt.startedAt, lastAt: attempt.startedAt, count: 1, counts: attempt.counts,
                    durationSeconds: attempt.durationSeconds, drifted: Array(attempt.drifted.prefix(driftListLimit))),
                at: 0)
        }
        return Array(history.prefix(historyLimit))
    }
}
