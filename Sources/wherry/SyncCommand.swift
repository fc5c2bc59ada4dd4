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
        for service in selected {
            // A suspended service is left alone unless it was asked for by name.
            if service.suspend, self.service == nil {
                Terminal.error("service \(service.name) is suspended (suspend: true); skipped")
                reports.append(["service": .string(service.name), "skipped": "suspended"])
            } else {
                services.append(service)
            }
        }
        let progress = Progress(total: services.count)
        let outcomes = await syncer.syncAll(
            services, in: config, dryRun: dryRun, allowMassPrune: allowMassPrune,
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
                reports.append(["service": .string(service.name), "error": .string(error.description)])
                Terminal.error(error.description)
            case .skipped(let reason):
                skipped += 1
                reports.append(["service": .string(service.name), "skipped": .string(reason)])
            }
        }
        if output == .json {
            print(JSONValue.object(["dryRun": .bool(dryRun), "services": .array(reports)]).prettyJSONString())
        }
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

    private func report(_ result: SyncResult) -> JSONValue {
        [
            "service": .string(result.service), "commit": .string(result.commit),
            "summary": .string(result.changes.summary),
            "objects": .array(
                result.changes.entries.map { entry in
                    var object: JSONObject = [
                        "object": .string(entry.ref.description), "action": .string(entry.action.rawValue),
                    ]
                    if let note = entry.note { object["note"] = .string(note) }
                    return .object(object)
                }),
        ]
    }
}
