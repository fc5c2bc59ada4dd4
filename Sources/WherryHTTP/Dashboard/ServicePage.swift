import Foundation
import WherryController
import WherryModel

/// A service's page: its objects as a tree (namespace → kind → name) with live health and the last action, the
/// last error in full, the history, the last drift corrections, its dependencies drawn as SVG, and its config
/// (never a secret: the repository URL is shown without credentials).
struct ServicePage: Sendable {
    struct Object: Sendable {
        var objectName: String
        var apiVersion: String
        var health: String
        var healthClass: String
        var reason: String?
        var action: String
    }

    struct Kind: Sendable {
        var kind: String
        var objects: [Object]
    }

    struct Namespace: Sendable {
        var namespaceLabel: String
        var kinds: [Kind]
        var objectCount: Int
    }

    struct Attempt: Sendable {
        var attemptRevision: String
        /// Not `revisionURL`: a missing value would make the template climb to the page's own.
        var attemptURL: String?
        var result: String
        var changes: String
        var duration: String
        var repeats: Int
        var repeated: Bool
        var firstTime: String
        var lastTime: String
        var attemptError: String?
    }

    struct Setting: Sendable {
        var key: String
        var value: String
    }

    var title: String
    var name: String
    var syncPath: String
    var state: String
    var stateLabel: String
    var revision: String
    var hasRevision: Bool
    var revisionURL: String?
    var appliedTime: String?
    var appliedAgo: String
    var lastError: String?
    var namespaces: [Namespace]
    var objectTotal: Int
    var healthNote: String?
    var history: [Attempt]
    var hasHistory: Bool
    var driftCorrections: Int
    var drift: [String]
    var hasDrift: Bool
    var driftTime: String?
    var graph: DependencyGraphView
    var settings: [Setting]
    var tokenConfigured: Bool
    var generated: String
    /// The event the page was rendered at (its script follows the stream from there).
    var lastEvent = ""

    /// Live health per object, as the cluster answered (`nil` for objects not asked about).
    typealias HealthReport = [ObjectRef: Result<Health, HealthProbeError>]

    init(
        service: ServiceConfig, snapshot: ControllerSnapshot, history entries: [HistoryEntry], inventory: Inventory?,
        health: HealthReport, healthNote: String?, lastActions: [ObjectRef: ChangeSetEntry], tokenConfigured: Bool,
        now: Date = Date()
    ) {
        let config = snapshot.config
        let status = snapshot.statuses[service.name]
        let repository = config.repository(for: service)
        let link = { (revision: String) in repository.flatMap { CommitLink.url(repository: $0.url, revision: revision) }
        }
        title = "\(service.name) · Wherry"
        name = service.name
        syncPath = "/v1/gitops/services/\(OverviewPage.servicePath(service.name).dropFirst("/services/".count))/sync"
        state = snapshot.state(of: service)
        stateLabel = state == "waiting" ? "waiting for \(snapshot.blocked[service.name] ?? "a dependency")" : state
        revision = status?.lastAppliedRevision ?? ""
        hasRevision = !revision.isEmpty
        revisionURL = link(revision)
        appliedTime = status?.lastAppliedAt.map(OverviewPage.iso)
        appliedAgo = OverviewPage.ago(status?.lastAppliedAt, now: now)
        lastError = status?.lastError
        namespaces = Self.tree(inventory?.entries ?? [], health: health, lastActions: lastActions)
        objectTotal = inventory?.count ?? 0
        self.healthNote = healthNote
        history = entries.map { entry in
            Attempt(
                attemptRevision: String(entry.revision.prefix(12)), attemptURL: link(entry.revision),
                result: entry.result.rawValue, changes: ApplyAction.summary(entry.counts),
                duration: String(format: "%.1f s", entry.durationSeconds), repeats: entry.count,
                repeated: entry.count > 1, firstTime: OverviewPage.iso(entry.firstAt),
                lastTime: OverviewPage.iso(entry.lastAt), attemptError: entry.error.map(OverviewPage.firstLine))
        }
        hasHistory = !history.isEmpty
        driftCorrections = status?.driftCorrections ?? 0
        drift = status?.lastDrift ?? []
        hasDrift = !drift.isEmpty
        driftTime = status?.lastDriftAt.map(OverviewPage.iso)
        graph = DependencyGraphView(service: service, config: config)
        settings = Self.settings(service, repository: repository, config: config)
        self.tokenConfigured = tokenConfigured
        generated = OverviewPage.iso(now)
    }

    /// Objects grouped by namespace (cluster-scoped first), then kind, then name.
    static func tree(
        _ entries: [InventoryEntry], health: HealthReport, lastActions: [ObjectRef: ChangeSetEntry]
    ) -> [Namespace] {
        let byNamespace = Dictionary(grouping: entries, by: \.ref.namespace)
        return byNamespace.keys.sorted().map { namespace in
            let members = byNamespace[namespace] ?? []
            let byKind = Dictionary(grouping: members, by: \.ref.kind)
            let kinds = byKind.keys.sorted().map { kind in
                Kind(
                    kind: kind,
                    objects: (byKind[kind] ?? []).sorted { $0.ref.name < $1.ref.name }.map { entry in
                        let (label, css, reason) = describe(health[entry.ref], ref: entry.ref)
                        let last = lastActions[entry.ref]
                        return Object(
                            objectName: entry.ref.name, apiVersion: entry.apiVersion, health: label,
                            healthClass: css, reason: reason,
                            action: last.map { $0.action.rawValue + ($0.note.map { " (\($0))" } ?? "") } ?? "—")
                    })
            }
            return Namespace(
                namespaceLabel: namespace.isEmpty ? "cluster-scoped" : "namespace \(namespace)", kinds: kinds,
                objectCount: members.count)
        }
    }

    /// The health column: label, CSS class, reason.
    static func describe(_ result: Result<Health, HealthProbeError>?, ref: ObjectRef) -> (String, String, String?) {
        switch result {
        case .success(.healthy)?: ("healthy", "ok", nil)
        case .success(.progressing(let reason))?: ("progressing", "warn", reason)
        case .success(.degraded(let reason))?: ("degraded", "bad", reason)
        case .failure(let error)?: ("unknown", "muted", error.message)
        case nil: ("no check", "muted", "healthy once it exists")
        }
    }

    /// The service's configuration as shown: no token, no key file contents, the URL without credentials.
    static func settings(_ service: ServiceConfig, repository: RepositoryConfig?, config: WherryConfig) -> [Setting] {
        var rows: [Setting] = [
            Setting(key: "repository", value: repository.map { URLRedaction.redact($0.url) } ?? service.repository),
            Setting(key: "branch", value: repository?.branch ?? ""),
            Setting(key: "directory", value: service.directory),
            Setting(key: "namespace", value: service.namespace ?? "(the objects' own, else the default)"),
            Setting(key: "prune", value: service.prune ? "yes" : "no"),
            Setting(key: "wait for health", value: service.wait ? "yes" : "no"),
            Setting(key: "interval", value: "\(service.interval ?? config.pollInterval) s"),
            Setting(key: "suspended", value: service.suspend ? "yes" : "no"),
            Setting(
                key: "depends on", value: service.dependsOn.isEmpty ? "—" : service.dependsOn.joined(separator: ", ")),
        ]
        if let timeout = service.timeout { rows.append(Setting(key: "timeout", value: "\(timeout) s")) }
        if service.stateless { rows.append(Setting(key: "stateless", value: "yes")) }
        return rows
    }
}

/// Why the cluster could not tell an object's health (no secret in it: an API error's message).
public struct HealthProbeError: Error, Sendable, Hashable {
    public var message: String

    public init(_ message: String) { self.message = message }
}
