public import Foundation
import Logging
import WherryModel

/// What a config reload changed.
public struct ConfigReload: Sendable, Hashable {
    /// Services new in the config: they start now.
    public var added: [String] = []
    /// Services gone from the config: their objects are left in place and reported orphaned (never pruned).
    public var removed: [String] = []
    /// Services whose settings changed: they are applied again.
    public var changed: [String] = []
    /// Whether anything else changed (repositories, `poll_interval`, ...).
    public var settingsChanged = false

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && !settingsChanged }
}

extension ReconcileLoop {
    /// Puts `new` in force: pollers restart on it, new services start, changed ones are applied again, and removed
    /// ones are reported orphaned (their objects stay). A reconcile in flight finishes on the config it began with.
    /// ``reload(_:suspended:)`` after reading from the cluster which of the services new in `new` are suspended at
    /// runtime (a service added back, suspended before it was removed, stays suspended). Unread, they start.
    @discardableResult
    public func reloadReadingSuspensions(_ new: WherryConfig) async -> ConfigReload {
        let known = Set(config.services.map(\.name))
        var suspended: [String: Date] = [:]
        if new.services.contains(where: { !known.contains($0.name) }) {
            do {
                suspended = try await reconciler.syncer.inventories.suspensions()
                    .filter { name, _ in !known.contains(name) }
                    .mapValues { (try? Date($0, strategy: .iso8601)) ?? Date() }
            } catch {
                logger.warning(
                    "Cannot read the suspensions of the added services kept in the cluster",
                    metadata: ["wherry.error": "\(error)"])
            }
        }
        return reload(new, suspended: suspended)
    }

    /// `suspended`: services of `new` suspended at runtime that are not configured yet, with since when.
    @discardableResult
    public func reload(_ new: WherryConfig, suspended: [String: Date] = [:]) -> ConfigReload {
        let old = config
        var report = ConfigReload()
        let before = Dictionary(old.services.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        let after = Dictionary(new.services.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        report.added = after.keys.filter { before[$0] == nil }.sorted()
        report.removed = before.keys.filter { after[$0] == nil }.sorted()
        // Where an entry is written (its line) is not a setting: a comment added above it changes nothing.
        report.changed = after.keys.filter { name in
            guard let previous = before[name], let next = after[name] else { return false }
            return previous.unlocated != next.unlocated
                || old.repository(for: previous)?.unlocated != new.repository(for: next)?.unlocated
        }.sorted()
        // Of the other settings, these are followed (the rest, such as the listen address or api_token_env, are read
        // at start only).
        report.settingsChanged =
            old.repositories.map(\.unlocated) != new.repositories.map(\.unlocated)
            || old.pollInterval != new.pollInterval
        guard !report.isEmpty else { return report }
        current.withLock { current in
            current.config = new
            current.generation += 1
        }
        state.withLock { state in
            // A run of a removed service, queued or in flight, forgets it when it ends (``execute``); of the others
            // nothing is kept: no retry of a failure, and a service added back starts afresh.
            for name in report.removed where state.schedules[name]?.running != true { state.forget(name) }
            // Before the pollers restart on the new config: a suspended service added back is never reconciled.
            for name in report.added { if let since = suspended[name] { state.suspended[name] = since } }
            for name in report.removed {
                state.suspended[name] = nil
                state.blocked[name] = nil
                state.blockedTriggers[name] = nil
            }
        }
        logger.notice(
            "Config reloaded",
            metadata: [
                "wherry.added": "\(report.added.joined(separator: ", "))",
                "wherry.removed": "\(report.removed.joined(separator: ", "))",
                "wherry.changed": "\(report.changed.joined(separator: ", "))",
            ])
        // New services are found by the pollers' first look; changed ones apply even if Git did not move.
        for name in report.changed where !isSuspended(name) { enqueue(name, .config, newCommit: true) }
        return report
    }
}

extension ServiceConfig {
    /// The settings alone, without where they were written.
    var unlocated: ServiceConfig {
        var copy = self
        copy.location = SourceLocation(file: "")
        copy.decryption?.location = SourceLocation(file: "")
        return copy
    }
}

extension RepositoryConfig {
    /// The settings alone, without where they were written.
    var unlocated: RepositoryConfig {
        var copy = self
        copy.location = SourceLocation(file: "")
        copy.decryption?.location = SourceLocation(file: "")
        return copy
    }
}
