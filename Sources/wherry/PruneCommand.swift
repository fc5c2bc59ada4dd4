import ArgumentParser
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
            pruned). The inventory is removed once nothing of it is left.

            Examples:
              wherry prune --service old-api --dry-run
              wherry prune --service old-api --namespace wherry-system -c gitops-config.yaml
              wherry prune --service old-api --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(name: .shortAndLong, help: "The service (no longer in the config) whose objects to delete.")
    var service: String

    @Flag(help: "List what would be deleted; delete nothing.")
    var dryRun = false

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
        let inventories = kube.inventories(api)
        let stored: StoredInventory
        do {
            stored = try await inventories.load(service: service)
        } catch {
            Terminal.error("cannot read the inventory of service \(service): \(error)")
            throw ExitStatus.failure.code
        }
        let inventory = stored.inventory
        guard !inventory.isEmpty else {
            Terminal.error("service \(service) has no inventory in namespace \(kube.namespace); nothing to prune")
            if output == .json { print(document(objects: [], errors: []).prettyJSONString()) }
            await api.shutdown()
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
                    try? await inventories.store?.saveInventory(Inventory(), of: service)
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
