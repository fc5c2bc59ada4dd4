import Foundation
import WherryController
import WherryModel

/// The overview's view: every service (failures first), the repositories, the orphaned services. Plain values
/// the `overview` template renders; every string is escaped by the template.
struct OverviewPage: Sendable {
    struct Row: Sendable {
        var name: String
        var link: String
        var state: String
        /// The badge's text: the state, or `waiting for db`.
        var stateLabel: String
        var repo: String
        var revision: String
        var revisionShort: String
        var revisionURL: String?
        /// The commit link without the commit id, for the page's script to update the link live ("" off forges).
        var commitBase: String
        var appliedTime: String?
        var appliedAgo: String
        var changes: String
        var health: String
        var drift: Int
        var failures: Int
        var error: String?
    }

    struct Repo: Sendable {
        var name: String
        var url: String
        var branch: String
        var serviceCount: Int
        var deployTime: String?
        var deployAgo: String
        var commitShort: String
        var commitURL: String?
    }

    struct Orphan: Sendable {
        var orphanName: String
        var objects: Int
        /// The `wherry prune` command, with the flags that reach the same config and namespace.
        var pruneCommand: String
    }

    var title = "Wherry"
    /// The event the page was rendered at (its script follows the stream from there).
    var lastEvent = ""
    var generated: String
    var services: [Row]
    var serviceCount: Int
    var hasServices: Bool
    var failing: Int
    var hasFailing: Bool
    var hasRepos: Bool
    var hasOrphans: Bool
    var repos: [Repo]
    var orphans: [Orphan]
    var states: [String]

    /// The page for a snapshot; `now` is the time ages are counted to.
    init(_ snapshot: ControllerSnapshot, now: Date = Date()) {
        let config = snapshot.config
        services = config.services.map { service in
            let status = snapshot.statuses[service.name]
            let state = snapshot.state(of: service)
            let repository = config.repository(for: service)
            let revision = status?.lastAppliedRevision ?? ""
            return Row(
                name: service.name, link: Self.servicePath(service.name), state: state,
                stateLabel: state == "waiting"
                    ? "waiting for \(snapshot.blocked[service.name] ?? "a dependency")" : state,
                repo: repository?.displayName ?? service.repository, revision: revision,
                revisionShort: String(revision.prefix(12)),
                revisionURL: repository.flatMap { CommitLink.url(repository: $0.url, revision: revision) },
                commitBase: repository.flatMap { CommitLink.base(repository: $0.url) } ?? "",
                appliedTime: status?.lastAppliedAt.map(Self.iso), appliedAgo: Self.ago(status?.lastAppliedAt, now: now),
                changes: status.map { ApplyAction.summary($0.counts) } ?? "—",
                health: Self.health(service, status),
                drift: status?.driftCorrections ?? 0, failures: snapshot.schedules[service.name]?.failures ?? 0,
                error: status?.lastError.map(Self.firstLine))
        }
        .sorted { lhs, rhs in
            let (left, right) = (Self.rank(lhs.state), Self.rank(rhs.state))
            return left != right ? left < right : lhs.name < rhs.name
        }
        serviceCount = services.count
        hasServices = !services.isEmpty
        failing = services.filter { $0.state == "failed" }.count
        hasFailing = failing > 0
        repos = config.repositories.compactMap { repository in
            let names = config.services.filter { $0.repository == repository.key }.map(\.name)
            guard !names.isEmpty else { return nil }
            let latest = names.compactMap { snapshot.statuses[$0] }.filter { $0.lastAppliedAt != nil }
                .max { $0.lastAppliedAt! < $1.lastAppliedAt! }
            let commit = latest?.lastAppliedRevision ?? ""
            return Repo(
                name: repository.displayName, url: URLRedaction.redact(repository.url), branch: repository.branch,
                serviceCount: names.count, deployTime: latest?.lastAppliedAt.map(Self.iso),
                deployAgo: Self.ago(latest?.lastAppliedAt, now: now), commitShort: String(commit.prefix(12)),
                commitURL: CommitLink.url(repository: repository.url, revision: commit))
        }
        hasRepos = !repos.isEmpty
        orphans = snapshot.orphans.sorted { $0.key < $1.key }.map {
            Orphan(
                orphanName: $0.key, objects: $0.value,
                pruneCommand: OrphanHint.command(
                    service: $0.key, config: config.file, namespace: snapshot.inventoryNamespace))
        }
        hasOrphans = !orphans.isEmpty
        generated = Self.iso(now)
        states = ServiceStates.order
    }

    /// Where a service's page is.
    static func servicePath(_ name: String) -> String {
        "/services/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name)
    }

    /// Failures first, then what waits or runs, then the rest.
    static func rank(_ state: String) -> Int { ServiceStates.order.firstIndex(of: state) ?? ServiceStates.order.count }

    /// What is known of a service's health without asking the cluster: a `wait: true` service that succeeded was
    /// healthy then; otherwise its page asks the cluster.
    static func health(_ service: ServiceConfig, _ status: ServiceStatus?) -> String {
        guard service.wait else { return "not waited for" }
        switch status?.lastResult {
        case .succeeded?: return "healthy"
        case .failed?: return "not healthy or not applied"
        case .superseded?, nil: return "unknown"
        }
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    /// `3m ago`; `never` without a time.
    static func ago(_ date: Date?, now: Date) -> String {
        guard let date else { return "never" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s ago"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86400: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86400)d ago"
        }
    }

    /// An error as one line (whitespace runs and line breaks made one space) of at most 200 characters: its first
    /// line alone is often only a heading (`service x: render failed:`).
    static func firstLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return line.count > 200 ? String(line.prefix(199)) + "…" : line
    }
}
