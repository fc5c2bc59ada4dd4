import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryGit
import WherryKube
import WherryModel

/// `wherry validate`: check the config and every service's manifests, offline (Git is read, no cluster).
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config and every service's manifests (syntax; with --server, against the cluster).",
        discussion: """
            Reports every problem with file:line:column and a hint. Warns about tokens written in the config. \
            Without --server no cluster is contacted and only the syntax is checked: YAML, kinds, names, \
            kustomize, SOPS (a value of the wrong type, such as replicas: "three", or an unknown field is found \
            only by the API server). With --server every object also goes through the server-side dry run that \
            sync --dry-run does. Exit 0 when everything is valid, 1 when a service fails (its manifests, Git or the \
            server), 2 when the config is invalid.

            Examples:
              wherry validate -c gitops-config.yaml
              wherry validate --config-only
              wherry validate --server --kubeconfig ~/.kube/staging --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Flag(
        help: """
            Also validate every object with the API server's server-side dry run (as sync --dry-run does; \
            nothing is written).
            """)
    var server = false

    @Flag(help: "Check only the config file; do not read manifests from Git.")
    var configOnly = false

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        options.logging.bootstrap()
        let loaded: LoadedConfig
        if output == .json {
            do {
                loaded = try ConfigLoader.load(path: options.configPath)
            } catch {
                let errors = error.issues.filter { $0.severity == .error }.map(JSONReport.error)
                let warnings = error.issues.filter { $0.severity == .warning }.map(JSONReport.error)
                print(
                    document(
                        config: [
                            "file": .string(options.configPath), "valid": false, "warnings": .array(warnings),
                        ], services: [], errors: errors
                    ).prettyJSONString())
                throw ExitStatus.usage.code
            }
        } else {
            loaded = try options.load()
        }
        let config = loaded.config
        let summary: JSONValue = [
            "file": .string(config.file), "valid": true, "repositories": .int(Int64(config.repositories.count)),
            "services": .int(Int64(config.services.count)), "warnings": .array(loaded.warnings.map(JSONReport.error)),
        ]
        if output == .text {
            print(
                "\(config.file): config valid (\(config.repositories.count) repositor\(config.repositories.count == 1 ? "y" : "ies"), \(config.services.count) service\(config.services.count == 1 ? "" : "s"), \(loaded.warnings.count) warning\(loaded.warnings.count == 1 ? "" : "s"))"
            )
        }
        guard !configOnly else {
            if output == .json { print(document(config: summary, services: [], errors: []).prettyJSONString()) }
            return
        }
        var reports: [JSONValue] = []
        var unreadable = 0
        var invalid = 0
        if server {
            (reports, unreadable, invalid) = try await validateWithServer(config)
        } else {
            let renderer = options.serviceRenderer(for: config)
            for outcome in await renderer.renderAll(config.services, in: config) {
                switch outcome {
                case .success(let result):
                    let count = result.objects.count
                    if output == .text {
                        print(
                            "service \(result.service.name): \(count) object\(count == 1 ? "" : "s") read, syntax valid at "
                                + "\(result.repository.displayName)@\(result.commit.prefix(12))")
                    }
                    let objects = result.objects.map { JSONReport.object($0.ref, action: "valid") }
                    reports.append(
                        Self.report(result.service.name, commit: result.commit, objects: objects, errors: []))
                case .failure(let error):
                    Terminal.error(error.description)
                    if error.step == .git { unreadable += 1 } else { invalid += 1 }
                    reports.append(
                        Self.report(error.service, commit: error.commit, objects: [], errors: JSONReport.errors(error)))
                }
            }
            if output == .text, invalid + unreadable < config.services.count {
                Terminal.error(
                    "syntax only: types and unknown fields are checked by the API server; run wherry validate "
                        + "--server (or sync --dry-run) to check them")
            }
        }
        if output == .json {
            print(
                document(config: summary, services: reports, errors: reports.flatMap { $0["errors"]?.arrayValue ?? [] })
                    .prettyJSONString())
        }
        let total = config.services.count
        if unreadable > 0 {
            Terminal.error(
                "\(unreadable) of \(total) service\(total == 1 ? "" : "s") could not be read from Git (see the git "
                    + "error above); their manifests were not checked")
        }
        if invalid > 0 {
            Terminal.error("\(invalid) of \(total) service\(total == 1 ? " has" : "s have") invalid manifests")
        }
        if unreadable + invalid > 0 { throw ExitStatus.failure.code }
    }

    /// `--server`: the dry run of `sync --dry-run` for every service; reports, services Git could not give, and
    /// services whose objects failed.
    private func validateWithServer(_ config: WherryConfig) async throws -> ([JSONValue], Int, Int) {
        let (api, clientConfig) = try kube.connect(logger: Logger(label: "wherry.kube"))
        let syncer = ServiceSyncer(
            renderer: options.serviceRenderer(for: config),
            manager: ResourceManager(api: api, logger: Logger(label: "wherry.apply")),
            concurrency: kube.concurrency, defaultNamespace: clientConfig.namespace,
            inventories: kube.inventories(api, config: config))
        // Manifests are checked, not what a prune would do: a prune refusal is not an invalid manifest.
        let outcomes = await syncer.syncAll(
            config.services, in: config, dryRun: true, allowMassPrune: true, noPrune: true,
            servicesAtOnce: kube.maxConcurrentServices ?? 16)
        await api.shutdown()
        var reports: [JSONValue] = []
        var unreadable = 0
        var invalid = 0
        for (service, outcome) in zip(config.services, outcomes) {
            switch outcome {
            case .synced(let result):
                let applied = result.changes.entries.filter { $0.action != .deleted && $0.action != .kept }
                let unchecked = applied.filter { $0.note == ChangeSetEntry.notValidated }
                let valid = applied.count - unchecked.count
                if output == .text {
                    var line =
                        "service \(service.name): \(valid) object\(valid == 1 ? "" : "s") valid on the server "
                        + "(server-side dry run)"
                    if !unchecked.isEmpty {
                        line +=
                            ", \(unchecked.count) not checked (their Namespace or CRD is created by the sync: the "
                            + "server checks them once it exists)"
                    }
                    print(line + " at \(result.commit.prefix(12))")
                }
                reports.append(
                    Self.report(
                        service.name, commit: result.commit,
                        objects: applied.map {
                            JSONReport.object(
                                $0.ref, action: $0.note == ChangeSetEntry.notValidated ? "unchecked" : "valid")
                        }, errors: []))
            case .failed(let error):
                Terminal.error(error.description)
                if case .render(let render) = error, render.step == .git { unreadable += 1 } else { invalid += 1 }
                var objects: [JSONValue] = []
                if case .apply(_, _, let failure) = error {
                    objects = failure.failures.map { JSONReport.object($0.ref, action: "invalid", error: $0.message) }
                }
                reports.append(
                    Self.report(
                        service.name, commit: error.commit.isEmpty ? nil : error.commit, objects: objects,
                        errors: JSONReport.errors(error)))
            case .skipped(let reason):
                invalid += 1
                Terminal.error("service \(service.name): not validated: \(reason)")
                reports.append(
                    Self.report(
                        service.name, commit: nil, objects: [],
                        errors: [JSONReport.error("not validated: \(reason)")]))
            }
        }
        return (reports, unreadable, invalid)
    }

    /// One service in `wherry validate --output json`.
    static func report(_ service: String, commit: String?, objects: [JSONValue], errors: [JSONValue]) -> JSONValue {
        let errors = JSONReport.errors(errors, of: service)
        return [
            "service": .string(service), "result": errors.isEmpty ? "valid" : "invalid",
            "commit": commit.map { .string($0) } ?? .null, "objects": .array(objects),
            "counts": JSONReport.counts(JSONReport.tally(objects), keys: ["valid", "invalid", "unchecked"]),
            "errors": .array(errors),
        ]
    }

    /// `wherry validate --output json`: `{checked, config, services, counts, errors}`.
    private func document(config: JSONValue, services: [JSONValue], errors: [JSONValue]) -> JSONValue {
        let results = services.compactMap { $0["result"]?.stringValue }
        return [
            "checked": server ? "server" : "syntax", "config": config, "services": .array(services),
            "counts": JSONReport.counts(
                results.reduce(into: [:]) { $0[$1, default: 0] += 1 }, keys: ["valid", "invalid"]),
            "errors": .array(errors),
        ]
    }
}
