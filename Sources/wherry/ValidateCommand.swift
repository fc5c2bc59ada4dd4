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

    func run() async throws {
        options.logging.bootstrap()
        let loaded = try options.load()
        let config = loaded.config
        print(
            "\(config.file): config valid (\(config.repositories.count) repositor\(config.repositories.count == 1 ? "y" : "ies"), \(config.services.count) service\(config.services.count == 1 ? "" : "s"), \(loaded.warnings.count) warning\(loaded.warnings.count == 1 ? "" : "s"))"
        )
        guard !configOnly else { return }
        let renderer = options.serviceRenderer(for: config)
        var failed = 0
        for outcome in await renderer.renderAll(config.services, in: config) {
            switch outcome {
            case .success(let result):
                let count = result.objects.count
                print(
                    "service \(result.service.name): \(count) object\(count == 1 ? "" : "s") valid at \(result.repository.displayName)@\(result.commit.prefix(12))"
                )
            case .failure(let error):
                Terminal.error(error.description)
                failed += 1
            }
        }
        if failed > 0 {
            Terminal.error("\(failed) of \(config.services.count) services have invalid manifests")
            throw ExitStatus.failure.code
        }
    }
}
