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
            decrypted from SOPS show their encrypted values as *** unless --show-secrets is given. Objects are printed in \
            apply order (CustomResourceDefinitions, Namespaces and ClusterRoles first, file order otherwise), so the \
            output can be piped to kubectl apply -f - on a first install (custom resources whose CRD is in the same \
            stream need a second apply: kubectl cannot map them until the CRD is established).

            Examples:
              wherry render -c gitops-config.yaml
              wherry render --service web | kubectl apply -f -
              wherry render --service web --output json --show-secrets
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
        // Apply order across every service (CRDs, Namespaces, ClusterRoles first; file order kept otherwise), so
        // `wherry render | kubectl apply -f -` works on a first install.
        let ordered = Self.applyOrder(rendered.map { ($0, $0.displayObjects(showSecrets: showSecrets)) })
        switch output {
        case .yaml:
            var previous: String?
            for (result, object) in ordered {
                if result.service.name != previous {
                    print(
                        "# Service \(result.service.name): \(result.repository.displayName)@\(result.commit.prefix(12))"
                    )
                    previous = result.service.name
                }
                print(YAMLWriter.stream([object]) { $0.source?.description }, terminator: "")
            }
        case .json:
            let items = ordered.map { JSONValue.object($0.1.body) }
            let list: JSONValue = ["apiVersion": "v1", "kind": "List", "items": .array(items)]
            print(list.prettyJSONString())
        }
        if failed > 0 {
            Terminal.error("\(failed) of \(services.count) service\(services.count == 1 ? "" : "s") failed to render")
            throw ExitStatus.failure.code
        }
    }
}

extension RenderCommand {
    /// Every service's objects in apply order: by kind rank (``ApplyOrder``), services and files in their order
    /// within one rank (a stable sort).
    static func applyOrder(_ services: [(RenderedService, [KubeObject])]) -> [(RenderedService, KubeObject)] {
        let flat = services.flatMap { service, objects in objects.map { (service, $0) } }
        return flat.enumerated()
            .sorted { lhs, rhs in
                let (l, r) = (ApplyOrder.rank(of: lhs.element.1.kind), ApplyOrder.rank(of: rhs.element.1.kind))
                return l != r ? l < r : lhs.offset < rhs.offset
            }
            .map(\.element)
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
