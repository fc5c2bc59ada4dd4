import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryGit
import WherryModel
import WherryRender

/// `wherry render`: print the objects Wherry would apply, read from Git; no cluster needed.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the objects of every (or one) service as multi-document YAML.",
        discussion: """
            Reads each service's branch head from Git, renders k8s_yaml_dir (plain YAML/JSON, or kustomize when the \
            directory holds a kustomization.yaml) and labels every object as Wherry applies it \
            (app.kubernetes.io/managed-by: wherry, wherry.dev/service: <name>). No cluster is contacted. Objects \
            decrypted from SOPS show their encrypted values as *** unless --show-secrets is given.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .shortAndLong, help: "Render only this service.")
    var service: String?

    @Option(name: .shortAndLong, help: "Output format: yaml or json (a v1 List).")
    var output: RenderFormat = .yaml

    @Flag(help: "Print the values decrypted from SOPS-encrypted files in clear (they show as *** otherwise).")
    var showSecrets = false

    func run() async throws {
        options.logging.bootstrap()
        let config = try options.load().config
        let services = try ServiceSelection.select(service, from: config)
        let renderer = options.serviceRenderer(for: config)
        var rendered: [RenderedService] = []
        var failed = 0
        for result in await renderer.renderAll(services, in: config) {
            switch result {
            case .success(let service): rendered.append(service)
            case .failure(let error):
                Terminal.error(error.description)
                failed += 1
            }
        }
        switch output {
        case .yaml:
            for result in rendered {
                print("# Service \(result.service.name): \(result.repository.displayName)@\(result.commit.prefix(12))")
                print(
                    YAMLWriter.stream(result.displayObjects(showSecrets: showSecrets)) { $0.source?.description },
                    terminator: "")
            }
        case .json:
            let items = rendered.flatMap {
                $0.displayObjects(showSecrets: showSecrets).map { JSONValue.object($0.body) }
            }
            let list: JSONValue = ["apiVersion": "v1", "kind": "List", "items": .array(items)]
            print(list.prettyJSONString())
        }
        if failed > 0 {
            Terminal.error("\(failed) of \(services.count) service\(services.count == 1 ? "" : "s") failed to render")
            throw ExitStatus.failure.code
        }
    }
}

/// `--output` of render.
enum RenderFormat: String, ExpressibleByArgument, CaseIterable {
    case yaml, json
}

/// Picks the services a command works on.
enum ServiceSelection {
    /// All services, or the one named; an unknown name is a usage error with a suggestion.
    static func select(_ name: String?, from config: WherryConfig) throws -> [ServiceConfig] {
        guard let name else { return config.services }
        if let service = config.service(named: name) { return [service] }
        let names = config.services.map(\.name)
        var message = "no service named '\(name)' in \(config.file)"
        if let suggestion = Suggestion.closest(name, in: names) {
            message += "; did you mean '\(suggestion)'?"
        } else if !names.isEmpty {
            message += "; services: \(names.joined(separator: ", "))"
        }
        Terminal.error(message)
        throw ExitStatus.usage.code
    }

}
