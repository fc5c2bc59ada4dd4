import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryGit
import WherryModel

/// `wherry validate`: check the config and every service's manifests, offline (Git is read, no cluster).
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config and every service's manifests without touching a cluster.",
        discussion: """
            Reports every problem with file:line:column and a hint. Warns about tokens written in the config. \
            Exit 0 when everything is valid, 1 when a service's manifests fail, 2 when the config is invalid.
            """
    )

    @OptionGroup var options: ConfigOptions

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
        let renderer = options.serviceRenderer(for: config)
        var failed = 0
        var reports: [JSONValue] = []
        for outcome in await renderer.renderAll(config.services, in: config) {
            switch outcome {
            case .success(let result):
                let count = result.objects.count
                if output == .text {
                    print(
                        "service \(result.service.name): \(count) object\(count == 1 ? "" : "s") valid at \(result.repository.displayName)@\(result.commit.prefix(12))"
                    )
                }
                let objects = result.objects.map { JSONReport.object($0.ref, action: "valid") }
                reports.append(
                    Self.report(result.service.name, commit: result.commit, objects: objects, errors: []))
            case .failure(let error):
                Terminal.error(error.description)
                failed += 1
                reports.append(
                    Self.report(error.service, commit: error.commit, objects: [], errors: JSONReport.errors(error)))
            }
        }
        if output == .json {
            print(
                document(config: summary, services: reports, errors: reports.flatMap { $0["errors"]?.arrayValue ?? [] })
                    .prettyJSONString())
        }
        if failed > 0 {
            Terminal.error("\(failed) of \(config.services.count) services have invalid manifests")
            throw ExitStatus.failure.code
        }
    }

    /// One service in `wherry validate --output json`.
    static func report(_ service: String, commit: String?, objects: [JSONValue], errors: [JSONValue]) -> JSONValue {
        let errors = errors.map { error -> JSONValue in
            guard case .object(var members) = error else { return error }
            members["service"] = .string(service)
            return .object(members)
        }
        return [
            "service": .string(service), "result": errors.isEmpty ? "valid" : "invalid",
            "commit": commit.map { .string($0) } ?? .null, "objects": .array(objects),
            "counts": JSONReport.counts(JSONReport.tally(objects), keys: ["valid", "invalid"]),
            "errors": .array(errors),
        ]
    }

    /// `wherry validate --output json`: `{checked, config, services, counts, errors}`.
    private func document(config: JSONValue, services: [JSONValue], errors: [JSONValue]) -> JSONValue {
        let results = services.compactMap { $0["result"]?.stringValue }
        return [
            "checked": "syntax", "config": config, "services": .array(services),
            "counts": JSONReport.counts(
                results.reduce(into: [:]) { $0[$1, default: 0] += 1 }, keys: ["valid", "invalid"]),
            "errors": .array(errors),
        ]
    }
}
