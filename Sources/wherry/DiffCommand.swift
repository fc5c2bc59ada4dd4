import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryExec
import WherryGit
import WherryKube
import WherryModel
import WherryRender

/// `wherry diff`: what a sync would change, per object and field.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what a sync would change, as a unified diff per object; exit 1 when anything would change.",
        discussion: """
            Compares the live object with the server-side dry-run result of applying Git's version. Fields the \
            server owns (managedFields, resourceVersion, generation, uid, creationTimestamp, status) are ignored.

            Examples:
              wherry diff -c gitops-config.yaml
              wherry diff --service web --path ./k8s/web      # an uncommitted change
              wherry diff --service web --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(name: .shortAndLong, help: "Diff only this service.")
    var service: String?

    @Option(
        help: ArgumentHelp(
            "Render this local directory as the service's manifests instead of its branch (needs --service).",
            discussion: """
                The directory is read as k8s_yaml_dir would be at a commit (plain YAML, kustomize, SOPS), with its \
                repository's work tree as the root when it is inside one; nothing needs to be committed.
                """))
    var path: String?

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        options.logging.bootstrap()
        let config = try options.load().config
        let services = try ServiceSelection.select(service, from: config)
        let local = try await localDirectory()
        let (api, clientConfig) = try kube.connect(logger: Logger(label: "wherry.kube"))
        let renderer = options.serviceRenderer(for: config)
        let syncer = ServiceSyncer(
            renderer: renderer, manager: ResourceManager(api: api, logger: Logger(label: "wherry.apply")),
            concurrency: kube.concurrency, defaultNamespace: clientConfig.namespace,
            inventories: kube.inventories(api, config: config))
        let claims = ServiceClaims(config: config, syncer: syncer)
        var changed = 0
        var failed = 0
        var reports: [JSONValue] = []
        for service in services {
            var objects: [JSONValue] = []
            var commit: String?
            do {
                let rendered =
                    if let local {
                        try await renderer.renderLocal(
                            service, in: config, root: local.root, directory: local.directory)
                    } else {
                        try await renderer.render(service, in: config)
                    }
                commit = rendered.commit
                let diffs = try await syncer.manager.diff(
                    rendered.objects, options: syncer.applyOptions(for: service, dryRun: true))
                for diff in diffs {
                    guard diff.action != .unchanged && diff.action != .skipped else {
                        objects.append(JSONReport.object(diff.ref, action: diff.action.rawValue))
                        continue
                    }
                    changed += 1
                    let (live, desired) = Self.masked(diff, encrypted: rendered.encryptedPointers(of: diff.ref))
                    let old = live.map { YAMLWriter.document($0) } ?? ""
                    let label = "\(diff.ref) (\(diff.action.rawValue))"
                    let text = UnifiedDiff.lines(
                        old: old, new: YAMLWriter.document(desired), oldLabel: "live \(label)",
                        newLabel: path.map { "local \($0)" } ?? "git \(service.name)@\(rendered.commit.prefix(12))")
                    if output == .text { print(text, terminator: "") }
                    var object = JSONReport.object(diff.ref, action: diff.action.rawValue)
                    if case .object(var members) = object {
                        members["diff"] = .string(text)
                        object = .object(members)
                    }
                    objects.append(object)
                }
                let prunes = try await showPrunes(rendered, syncer: syncer, claims: claims)
                changed += prunes.filter { $0["action"] == "deleted" }.count
                objects += prunes
                reports.append(Self.report(service.name, commit: commit, objects: objects, errors: []))
            } catch let error as ServiceRenderError {
                failed += 1
                Terminal.error(error.description)
                reports.append(
                    Self.report(service.name, commit: commit, objects: objects, errors: JSONReport.errors(error)))
            } catch let error as ApplyError where error.isClusterWide {
                // Every other service would fail the same way: say it once.
                failed = services.count
                Terminal.error(error.description)
                reports.append(
                    Self.report(service.name, commit: commit, objects: objects, errors: JSONReport.errors(error)))
                break
            } catch let error as ApplyError {
                failed += 1
                Terminal.error("service \(service.name): \(error)")
                reports.append(
                    Self.report(service.name, commit: commit, objects: objects, errors: JSONReport.errors(error)))
            } catch {
                failed += 1
                Terminal.error("service \(service.name): \(error)")
                reports.append(
                    Self.report(service.name, commit: commit, objects: objects, errors: [JSONReport.error("\(error)")]))
            }
        }
        await api.shutdown()
        if output == .json {
            var totals: [String: Int] = [:]
            for report in reports {
                for (key, value) in JSONReport.tally(report["objects"]?.arrayValue ?? []) {
                    totals[key, default: 0] += value
                }
            }
            let document: JSONValue = [
                "changed": .int(Int64(changed)), "services": .array(reports), "counts": JSONReport.counts(totals),
                "errors": .array(reports.flatMap { $0["errors"]?.arrayValue ?? [] }),
            ]
            print(document.prettyJSONString())
        }
        if failed > 0 {
            Terminal.error("\(failed) of \(services.count) services could not be compared")
            throw ExitStatus.failure.code
        }
        Terminal.error(changed == 0 ? "no changes" : "\(changed) object\(changed == 1 ? "" : "s") would change")
        if changed > 0 { throw ExitStatus.failure.code }
    }

    /// `--path`: the root its paths are read against (the enclosing git work tree, else the directory itself) and the
    /// directory inside that root; `nil` without `--path`.
    private func localDirectory() async throws -> (root: String, directory: String)? {
        guard let path else { return nil }
        guard service != nil else {
            Terminal.error("--path needs --service: name the service whose manifests the directory holds")
            throw ExitStatus.usage.code
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Terminal.error("--path \(path): no such directory")
            throw ExitStatus.usage.code
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let result = try? await CommandRunner.run(
            Command("git", ["-C", absolute, "rev-parse", "--show-toplevel"], timeout: .seconds(20)))
        if let result, result.succeeded {
            let top = URL(fileURLWithPath: result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
                .resolvingSymlinksInPath().path
            if absolute == top { return (top, "") }
            if absolute.hasPrefix(top + "/") { return (top, String(absolute.dropFirst(top.count + 1))) }
        }
        return (absolute, "")
    }

    /// One service in `wherry diff --output json`.
    static func report(_ service: String, commit: String?, objects: [JSONValue], errors: [JSONValue]) -> JSONValue {
        let errors = JSONReport.errors(errors, of: service)
        return [
            "service": .string(service), "result": errors.isEmpty ? "compared" : "failed",
            "commit": commit.map { .string($0) } ?? .null, "objects": .array(objects),
            "counts": JSONReport.counts(JSONReport.tally(objects)), "errors": .array(errors),
        ]
    }

    /// Both sides of a diff with Secret values and the values decrypted from SOPS (`encrypted`, on any kind)
    /// masked (`***`, `*** (before)` / `*** (after)` where a value changed), as `kubectl diff` shows Secrets: a
    /// diff is read in terminals and CI logs.
    static func masked(_ diff: ObjectDiff, encrypted: [String]) -> (live: JSONValue?, desired: JSONValue) {
        guard let desired = diff.desired.objectValue else { return (diff.live, diff.desired) }
        let masked = SecretMasking.maskDiffPair(live: diff.live?.objectValue, desired: desired, encrypted: encrypted)
        return (masked.live.map { .object($0) } ?? diff.live, .object(masked.desired))
    }

    /// Prints what a sync would prune (and keep) for a service; returns them as report objects (`deleted`: would be
    /// deleted).
    private func showPrunes(
        _ rendered: RenderedService, syncer: ServiceSyncer, claims: ServiceClaims
    ) async throws
        -> [JSONValue]
    {
        let service = rendered.service
        guard service.prune else { return [] }
        let stored = try await syncer.inventories.load(service: service.name)
        if let foreign = syncer.inventories.foreignOwner(of: service.name, stored) {
            Terminal.error("prune of service \(service.name) not shown: \(foreign)")
            return []
        }
        let previous = stored.inventory
        let candidates = previous.subtracting(try await syncer.inventory(of: rendered))
        let pruned = await syncer.prune(
            candidates, service: service.name, propagation: service.prunePropagation, dryRun: true, claims: claims)
        for entry in pruned.changes.entries where output == .text {
            print(entry.action == .deleted ? "prune \(entry.ref): would be deleted" : "prune \(entry): not deleted")
        }
        for failure in pruned.failures { Terminal.error("prune \(failure)") }
        return pruned.changes.entries.map(JSONReport.object)
            + pruned.failures.map { JSONReport.object($0.ref, action: "failed", error: $0.message) }
    }
}
