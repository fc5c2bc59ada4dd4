import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryKube
import WherryModel

/// `wherry prune --service NAME`: removes the objects of a service that is no longer configured.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the objects of a service that was removed from the config (its inventory says which).",
        discussion: """
            A service removed from the config is never pruned silently: its objects stay in the cluster and \
            `wherry sync`, `wherry run` and `wherry status` name it as orphaned. This command deletes them, with the \
            same checks as any prune: only objects still labelled as that service's, never one annotated \
            wherry.dev/prune: disabled, never a Namespace that still holds something that stays, and never an \
            object that a configured service's Git now holds (a renamed or moved service: its objects are kept \
            until that service is synced and takes them over; while some service cannot be rendered, nothing is \
            pruned). The inventory is removed once nothing of it is left, and with it the service's recorded state in \
            the state directory (pass the same --state-dir as wherry run). Only this config's instance's inventories \
            are considered (see `instance` in the README).

            Examples:
              wherry prune -c gitops-config.yaml --service api --dry-run
              wherry prune -c b.yaml --namespace team-b --state-dir /var/lib/wherry --service api
              wherry prune --service old-api --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(name: .shortAndLong, help: "The service (no longer in the config) whose objects to delete.")
    var service: String

    @Flag(help: "List what would be deleted; delete nothing.")
    var dryRun = false

    @Flag(
        help: """
            Prune an inventory that carries no wherry.dev/instance label (written before instances) as this config's             instance's. Without it such an inventory is refused: it may belong to another config.
            """)
    var adopt = false

    @Option(help: "Deletion propagation for dependents: background, foreground or orphan.")
    var propagation: String = "background"

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        options.logging.bootstrap()
        let config = try options.load().config
        guard config.service(named: service) == nil else {
            Terminal.error(
                "service \(service) is still configured in \(config.file); remove its files from Git (a sync prunes "
                    + "them) or remove the service from the config first")
            throw ExitStatus.usage.code
        }
        guard
            let policy = DeleteOptions.Propagation(
                rawValue: propagation.prefix(1).uppercased() + propagation.dropFirst().lowercased())
        else {
            Terminal.error("--propagation must be background, foreground or orphan")
            throw ExitStatus.usage.code
        }
        let (api, clientConfig) = try kube.connect(logger: Logger(label: "wherry.kube"))
        let inventories = kube.inventories(api, config: config)
        let stored: StoredInventory
        do {
            stored = try await inventories.load(service: service)
        } catch {
            await api.shutdown()
            refuse("cannot read the inventory of service \(service): \(error)")
        }
        let inventory = stored.inventory
        if let foreign = inventories.foreignOwner(of: service, stored) {
            await api.shutdown()
            refuse("\(foreign); nothing was pruned")
        }
        if !inventory.isEmpty, stored.instance == nil, stored.resourceVersion != nil, !adopt {
            await api.shutdown()
            refuse(
                "the inventory of service \(service) (ConfigMap \(inventories.cluster.location(of: service))) carries "
                    + "no wherry.dev/instance label: it was written before instances, by any config using namespace "
                    + "\(kube.namespace), so it may be another config's; nothing was pruned. If it is this config's "
                    + "(instance '\(config.instance)'), run the same command with --adopt")
        }
        let used = Set(config.repositories.map { URLRedaction.redact($0.url) })
        if !inventory.isEmpty, let source = stored.source, !used.contains(source), !adopt {
            await api.shutdown()
            refuse(
                "the inventory of service \(service) was written from repository \(source), which this config "
                    + "(instance '\(config.instance)') does not use: it may be another config's service whose config "
                    + "has the same instance name (the file name, unless `instance:` is set); nothing was pruned. If it "
                    + "is this config's service (its repository was removed with it), run the same command with "
                    + "--adopt; otherwise give each config its own `instance:`")
        }
        guard !inventory.isEmpty else {
            await api.shutdown()
            // Nothing in the cluster: a stale row in the state store must not keep naming it as orphaned.
            let forgotten = dryRun ? false : await forgetInStateStore(config)
            let others = (try? await inventories.cluster.loadAll().keys.sorted()) ?? []
            Terminal.error(
                "service \(service) has no inventory in namespace \(kube.namespace), so there is nothing to prune: "
                    + "it was pruned already, or never applied with this --namespace"
                    + (others.isEmpty ? "" : " (inventories there: \(others.joined(separator: ", ")))")
                    + (forgotten ? "; its leftover recorded state was removed" : ""))
            if output == .json { print(document(objects: [], errors: []).prettyJSONString()) }
            return
        }
        let syncer = ServiceSyncer(
            renderer: options.serviceRenderer(for: config),
            manager: ResourceManager(api: api, logger: Logger(label: "wherry.apply")),
            concurrency: kube.concurrency, defaultNamespace: clientConfig.namespace, inventories: inventories)
        // The same checks as any prune: objects a configured service's Git holds now are kept for it.
        let result = await syncer.prune(
            inventory.entries, service: service, propagation: policy, dryRun: dryRun,
            claims: ServiceClaims(config: config, syncer: syncer))
        let suffix = dryRun ? " (dry run)" : ""
        if output == .text { for entry in result.changes.entries { print("\(entry)\(suffix)") } }
        for failure in result.failures { Terminal.error(failure.description) }
        var errors = JSONReport.errors(ApplyError(step: .prune, failures: result.failures))
        if !dryRun {
            do {
                if result.retained.isEmpty {
                    try await inventories.cluster.remove(service: service)
                    _ = await forgetInStateStore(config)
                } else {
                    try await inventories.save(
                        Inventory(result.retained), service: service, revision: "pruned", replacing: stored)
                }
            } catch {
                Terminal.error("cannot update the inventory of service \(service): \(error)")
                errors.append(JSONReport.error("cannot update the inventory of service \(service): \(error)"))
                if output == .json {
                    print(document(objects: objects(result), errors: errors).prettyJSONString())
                }
                throw ExitStatus.failure.code
            }
        }
        if output == .json {
            print(document(objects: objects(result), errors: errors).prettyJSONString())
        } else {
            print("service \(service): \(result.changes.summary)\(suffix)")
        }
        await api.shutdown()
        if !result.failures.isEmpty { throw ExitStatus.failure.code }
    }

    /// Removes the service's status, history and inventory copy from the state store (`<state-dir>/wherry.sqlite`,
    /// when there is one): a running controller and the next start no longer list it as orphaned. Returns whether
    /// a store was there to clean.
    private func forgetInStateStore(_ config: WherryConfig) async -> Bool {
        let directory = options.stateDirectory(config)
        guard FileManager.default.fileExists(atPath: directory + "/" + SQLiteStatusStore.fileName) else { return false }
        do {
            try await SQLiteStatusStore(directory: directory).forget(service: service)
            return true
        } catch {
            Terminal.error("warning: the recorded state of service \(service) was not removed: \(error)")
            return false
        }
    }

    /// Says why nothing was pruned (on stdout too, as the JSON document, with `--output json`) and exits 1.
    private func refuse(_ message: String) -> Never {
        Terminal.error(message)
        if output == .json { print(document(objects: [], errors: [JSONReport.error(message)]).prettyJSONString()) }
        Foundation.exit(ExitStatus.failure.rawValue)
    }

    /// Every object of the prune, failures included, as report objects.
    private func objects(_ result: PruneResult) -> [JSONValue] {
        result.changes.entries.map(JSONReport.object)
            + result.failures.map { JSONReport.object($0.ref, action: "failed", error: $0.message) }
    }

    /// `wherry prune --output json`: `{service, dryRun, objects, counts, errors}`.
    private func document(objects: [JSONValue], errors: [JSONValue]) -> JSONValue {
        [
            "service": .string(service), "dryRun": .bool(dryRun), "objects": .array(objects),
            "counts": JSONReport.counts(JSONReport.tally(objects)), "errors": .array(errors),
        ]
    }
}
