import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryGit
import WherryKube
import WherryModel

/// `wherry sync`: one reconcile of every (or one) service against the cluster.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Apply every (or one) service's objects to the cluster with server-side apply.",
        discussion: """
            Each service is rendered from Git and applied as a unit: every object is validated by a server-side dry \
            run first, and if any is invalid nothing of that service is written. CRDs, Namespaces and ClusterRoles \
            go first and are waited for. Objects equal to the cluster are not written. Prints one line per object \
            and a summary; exits 1 if any service failed, after syncing every other service.

            Examples:
              wherry sync -c gitops-config.yaml
              wherry sync --service web --dry-run
              wherry sync --no-prune --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(name: .shortAndLong, help: "Sync only this service.")
    var service: String?

    @Flag(help: "Validate and compare with a server-side dry run, and list what would be pruned; write nothing.")
    var dryRun = false

    @Flag(help: "Let a sync prune more than half of a service's objects (refused otherwise, as a safety valve).")
    var allowMassPrune = false

    @Flag(
        help: """
            Apply without pruning this once: objects that left Git stay in the cluster (listed as kept) and in the \
            inventory, so the next sync prunes them.
            """)
    var noPrune = false

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        options.logging.bootstrap()
        let config = try options.load().config
        let selected = try ServiceSelection.select(service, from: config)
        let (api, clientConfig) = try kube.connect(logger: Logger(label: "wherry.kube"))
        var syncer = ServiceSyncer(
            renderer: options.serviceRenderer(for: config),
            manager: ResourceManager(api: api, logger: Logger(label: "wherry.apply")),
            concurrency: kube.concurrency, defaultNamespace: clientConfig.namespace,
            inventories: kube.inventories(api, config: config))
        syncer.applyer = try await kube.installApplyer(config, stateDirectory: options.stateDirectory(config))
        var reports: [JSONValue] = []
        var services: [ServiceConfig] = []
        // Suspended at runtime (`wherry suspend`): the annotation on the service's inventory says so. Unread (the
        // cluster does not answer), the sync below reports the cluster's error.
        let runtime = (try? await syncer.inventories.suspensions()) ?? [:]
        for service in selected {
            // A suspended service is left alone (neither applied nor pruned) unless it was asked for by name.
            if service.suspend, self.service == nil {
                Terminal.error("service \(service.name) is suspended (suspend: true); skipped")
                reports.append(Self.skipped(service.name, reason: "suspended"))
            } else if let since = runtime[service.name], self.service == nil {
                Terminal.error(
                    "service \(service.name) is suspended at runtime (since \(since)); skipped: `wherry resume "
                        + "\(service.name)` resumes it, or name it with --service to sync it anyway")
                reports.append(Self.skipped(service.name, reason: "suspended"))
            } else {
                if let since = runtime[service.name] {
                    Terminal.error(
                        "warning: service \(service.name) is suspended at runtime (since \(since)); syncing it "
                            + "because --service names it (the running controller still leaves it alone)")
                }
                services.append(service)
            }
        }
        let progress = Progress(total: services.count)
        let outcomes = await syncer.syncAll(
            services, in: config, dryRun: dryRun, allowMassPrune: allowMassPrune, noPrune: noPrune,
            servicesAtOnce: kube.maxConcurrentServices ?? 16
        ) { service, _ in progress.finished(service.name) }
        progress.clear()
        if self.service == nil { await warnAboutOrphans(syncer.inventories, config: config) }
        await api.shutdown()
        var failed = 0
        var skipped = 0
        for (service, outcome) in zip(services, outcomes) {
            switch outcome {
            case .synced(let result):
                reports.append(report(result))
                if output == .text { printText(result) }
            case .failed(let error):
                failed += 1
                reports.append(report(failure: error, service: service.name))
                Terminal.error(error.description)
            case .skipped(let reason):
                skipped += 1
                reports.append(Self.skipped(service.name, reason: reason))
            }
        }
        if output == .json { print(Self.document(reports, dryRun: dryRun).prettyJSONString()) }
        if skipped > 0 {
            Terminal.error("\(skipped) service\(skipped == 1 ? " was" : "s were") not attempted: the cluster failed")
        }
        if failed > 0 || skipped > 0 {
            let count = failed + skipped
            Terminal.error("\(count) of \(services.count) service\(services.count == 1 ? "" : "s") failed to sync")
            throw ExitStatus.failure.code
        }
    }

    /// Services that left the config keep their objects: say so, with the command that removes them.
    private func warnAboutOrphans(_ inventories: InventoryKeeper, config: WherryConfig) async {
        guard let orphans = try? await inventories.orphans(in: config) else { return }
        for (name, inventory) in orphans.sorted(by: { $0.key < $1.key }) {
            Terminal.error(
                "service \(name) is no longer configured; its \(inventory.count) objects were left in the cluster "
                    + "(remove them with: \(kube.pruneCommand(service: name, options: options)))")
        }
    }

    private func printText(_ result: SyncResult) {
        let suffix = dryRun ? " (dry run)" : ""
        for entry in result.changes.entries { print("\(entry)\(suffix)") }
        print("service \(result.service) at \(result.commit.prefix(12)): \(result.changes.summary)\(suffix)")
    }

    /// The `--output json` document: `{dryRun, services, counts, errors}` (README: `wherry sync --output json`).
    static func document(_ services: [JSONValue], dryRun: Bool) -> JSONValue {
        var totals: [String: Int] = [:]
        for service in services {
            for (action, count) in service["counts"]?.objectValue?.members ?? [] {
                if case .int(let count) = count { totals[action, default: 0] += Int(count) }
            }
        }
        let results = services.compactMap { $0["result"]?.stringValue }
        return [
            "dryRun": .bool(dryRun), "services": .array(services), "counts": JSONReport.counts(totals),
            "serviceCounts": JSONReport.counts(
                results.reduce(into: [:]) { $0[$1, default: 0] += 1 }, keys: ["synced", "failed", "skipped"]),
            "errors": .array(services.flatMap { $0["errors"]?.arrayValue ?? [] }),
        ]
    }

    private func report(_ result: SyncResult) -> JSONValue {
        let objects = result.changes.entries.map(JSONReport.object)
        return [
            "service": .string(result.service), "result": "synced", "commit": .string(result.commit),
            "summary": .string(result.changes.summary), "objects": .array(objects),
            "counts": JSONReport.counts(JSONReport.tally(objects)), "errors": [],
        ]
    }

    /// A failed service: what was written before the failure, the objects that failed, and the errors.
    private func report(failure: SyncError, service: String) -> JSONValue {
        var objects: [JSONValue] = []
        if case .apply(_, _, let error) = failure {
            objects = error.applied.entries.map(JSONReport.object)
            objects += error.failures.map { JSONReport.object($0.ref, action: "failed", error: $0.message) }
        }
        let errors = JSONReport.errors(JSONReport.errors(failure), of: service)
        return [
            "service": .string(service), "result": "failed",
            "commit": failure.commit.isEmpty ? .null : .string(failure.commit), "summary": .string("failed"),
            "objects": .array(objects), "counts": JSONReport.counts(JSONReport.tally(objects)),
            "errors": .array(errors),
        ]
    }

    /// A service not attempted: suspended, or the cluster failed before its turn.
    static func skipped(_ service: String, reason: String) -> JSONValue {
        [
            "service": .string(service), "result": "skipped", "skipped": .string(reason), "commit": .null,
            "summary": .string("skipped: \(reason)"), "objects": [], "counts": JSONReport.counts([:]), "errors": [],
        ]
    }
}
