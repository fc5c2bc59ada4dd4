import ArgumentParser
import Foundation
import Logging
import WherryController
import WherryExec
import WherryGit
import WherryKube
import WherryModel

/// `wherry check`: preflight, before the first sync or `wherry run` (what `flux check --pre` does).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that Wherry can work here: kubeconfig, API server, RBAC, Git remotes, kubectl, state dir.",
        discussion: """
            One line per check, ✓ or ✗ with what to do; exit 1 when any check fails, 2 when the config is invalid. \
            RBAC is asked of the API server with SelfSubjectAccessReview for each namespace and kind the config's \
            services render: get, list, create and patch (server-side apply), delete where the service prunes, and \
            the same on ConfigMaps in Wherry's own namespace (the inventories). Each remote is asked for its branch \
            with git ls-remote. Nothing is written to the cluster.

            Examples:
              wherry check -c gitops-config.yaml
              wherry check --kubeconfig ~/.kube/prod --context prod --output json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    /// One check's outcome.
    struct Check {
        var name: String
        var ok: Bool
        var message: String
    }

    func run() async throws {
        options.logging.bootstrap()
        let config = try options.load().config
        var checks: [Check] = []
        func record(_ check: Check) {
            checks.append(check)
            if output == .text { print("\(check.ok ? "✓" : "✗") \(check.message)") }
        }
        let renderer = options.serviceRenderer(for: config)
        let rendered = await checkCluster(config, renderer: renderer, record: record)
        for check in await checkRemotes(config, renderer: renderer) { record(check) }
        for failure in rendered.failures { record(failure) }
        record(await checkKubectl())
        record(checkStateDirectory(options.stateDirectory(config)))
        let failed = checks.filter { !$0.ok }.count
        if output == .json {
            let document: JSONValue = [
                "checks": .array(
                    checks.map { ["check": .string($0.name), "ok": .bool($0.ok), "message": .string($0.message)] }),
                "counts": JSONReport.counts(["ok": checks.count - failed, "failed": failed], keys: ["ok", "failed"]),
                "errors": .array(checks.filter { !$0.ok }.map { errorObject($0) }),
            ]
            print(document.prettyJSONString())
        } else {
            print(failed == 0 ? "all \(checks.count) checks passed" : "\(failed) of \(checks.count) checks failed")
        }
        if failed > 0 { throw ExitStatus.failure.code }
    }

    /// A failed check as an error: `{message, check}`.
    private func errorObject(_ check: Check) -> JSONValue {
        ["message": .string(check.message), "check": .string(check.name)]
    }

    /// The kubeconfig, the server and RBAC; the services' renders are a by-product (their failures are checks).
    private func checkCluster(
        _ config: WherryConfig, renderer: ServiceRenderer, record: (Check) -> Void
    ) async -> (objects: [(ServiceConfig, [KubeObject])], failures: [Check]) {
        let clientConfig: KubeClientConfig
        do {
            clientConfig = try KubeConfigLoader().load(explicitPath: kube.kubeconfig, context: kube.context)
        } catch {
            record(Check(name: "kubeconfig", ok: false, message: "kubeconfig: \(error)"))
            return await render(config, renderer: renderer)
        }
        let context = clientConfig.contextName.map { "context \($0), " } ?? ""
        record(
            Check(
                name: "kubeconfig", ok: true,
                message: "kubeconfig loads (\(context)server \(clientConfig.server.absoluteString))"))
        let api: HTTPKubeAPI
        do {
            var clientOptions = KubeClientOptions(maxRetries: 0)
            clientOptions.onSlowFirstContact = KubeOptions.slowContactNotice(server: clientConfig.server.absoluteString)
            api = try HTTPKubeAPI(
                connection: KubeConnection(clientConfig), options: clientOptions, logger: Logger(label: "wherry.kube"))
        } catch {
            record(Check(name: "kubeconfig", ok: false, message: "kubeconfig: \(error)"))
            return await render(config, renderer: renderer)
        }
        let server = clientConfig.server.absoluteString
        do {
            let version = try await api.get("/version")
            record(
                Check(
                    name: "server", ok: true,
                    message:
                        "API server \(server) answers: Kubernetes \(version["gitVersion"]?.stringValue ?? "(version unknown)")"
                ))
        } catch {
            let problem = error.isClusterWide ? error.clusterSummary(server: server) : "\(error)"
            record(Check(name: "server", ok: false, message: "API server: \(problem)"))
            record(Check(name: "rbac", ok: false, message: "RBAC not checked: the API server did not answer"))
            await api.shutdown()
            return await render(config, renderer: renderer)
        }
        let rendered = await render(config, renderer: renderer)
        for check in await checkAccess(
            rendered.objects, api: api, defaultNamespace: clientConfig.namespace, context: clientConfig.contextName)
        {
            record(check)
        }
        await api.shutdown()
        return rendered
    }

    /// Every service rendered from Git; a service that cannot be is a failed check.
    private func render(
        _ config: WherryConfig, renderer: ServiceRenderer
    ) async -> (objects: [(ServiceConfig, [KubeObject])], failures: [Check]) {
        var objects: [(ServiceConfig, [KubeObject])] = []
        var failures: [Check] = []
        for outcome in await renderer.renderAll(config.services, in: config) {
            switch outcome {
            case .success(let result): objects.append((result.service, result.objects))
            case .failure(let error):
                // A git failure is said by the remote's own check; a render failure here.
                if error.step != .git {
                    failures.append(
                        Check(
                            name: "service", ok: false,
                            message: error.description.replacing("\n", with: " ")
                                + " (wherry validate shows every problem; its RBAC was not checked)"))
                }
            }
        }
        return (objects, failures)
    }

    /// A verb on a resource in a namespace (`""`: cluster-scoped).
    private struct Access: Hashable, Comparable {
        var namespace: String
        var group: String
        var resource: String
        var verb: String

        static func < (lhs: Access, rhs: Access) -> Bool {
            (lhs.namespace, lhs.group, lhs.resource, lhs.verb) < (rhs.namespace, rhs.group, rhs.resource, rhs.verb)
        }

        var resourceName: String { group.isEmpty ? resource : "\(resource).\(group)" }
    }

    /// One line per namespace: the verbs apply, prune and the inventories need, asked with SelfSubjectAccessReview.
    private func checkAccess(
        _ services: [(ServiceConfig, [KubeObject])], api: HTTPKubeAPI, defaultNamespace: String, context: String?
    ) async -> [Check] {
        let mapper = RESTMapper(api: api)
        var needed = Set<Access>()
        for verb in ["get", "list", "create", "patch", "delete"] {
            needed.insert(Access(namespace: kube.namespace, group: "", resource: "configmaps", verb: verb))
        }
        var problems: [Check] = []
        for (service, objects) in services {
            for object in objects {
                let mapping: ResourceMapping
                do {
                    mapping = try await mapper.mapping(for: object)
                } catch {
                    // A kind of a CRD the same sync creates is not served yet: its access cannot be asked.
                    continue
                }
                let namespace =
                    mapping.namespaced
                    ? (object.namespace.isEmpty ? (service.namespace ?? defaultNamespace) : object.namespace) : ""
                var verbs = ["get", "list", "create", "patch"]
                if service.prune { verbs.append("delete") }
                for verb in verbs {
                    needed.insert(
                        Access(
                            namespace: namespace, group: mapping.groupVersionKind.group, resource: mapping.resource,
                            verb: verb))
                }
            }
        }
        let answers = await concurrentMap(needed.sorted(), limit: kube.concurrency) { access in
            (access, await Self.allowed(access, api: api))
        }
        var byNamespace: [String: [(Access, Result<Bool, KubeAPIError>)]] = [:]
        for (access, answer) in answers { byNamespace[access.namespace, default: []].append((access, answer)) }
        let who = context.map { "the user of context \($0)" } ?? "Wherry's service account"
        for namespace in byNamespace.keys.sorted() {
            let entries = byNamespace[namespace]!
            let place = namespace.isEmpty ? "for cluster-scoped objects" : "in namespace \(namespace)"
            if let failure = entries.first(where: { if case .failure = $0.1 { true } else { false } }),
                case .failure(let error) = failure.1
            {
                problems.append(
                    Check(name: "rbac", ok: false, message: "RBAC \(place): cannot be asked: \(error)"))
                continue
            }
            let denied = entries.filter { if case .success(false) = $0.1 { true } else { false } }.map(\.0)
            let resources = Set(entries.map(\.0.resourceName)).sorted()
            if denied.isEmpty {
                problems.append(
                    Check(
                        name: "rbac", ok: true,
                        message: "RBAC \(place): allowed to \(Self.verbs(entries.map(\.0))) "
                            + resources.joined(separator: ", ")))
            } else {
                var grouped: [String: [String]] = [:]
                for access in denied { grouped[access.resourceName, default: []].append(access.verb) }
                let list = grouped.keys.sorted().map { resource in
                    "\(Self.order.filter { grouped[resource]!.contains($0) }.joined(separator: ", ")) \(resource)"
                }
                problems.append(
                    Check(
                        name: "rbac", ok: false,
                        message: "RBAC \(place): \(who) may not "
                            + list.joined(separator: "; ")
                            + " (grant them with a Role or ClusterRole binding; wherry install creates one)"))
            }
        }
        return problems
    }

    /// The verbs checked, in the order they are listed.
    private static let order = ["get", "list", "create", "patch", "delete"]

    private static func verbs(_ accesses: [Access]) -> String {
        let present = Set(accesses.map(\.verb))
        return order.filter(present.contains).joined(separator: ", ")
    }

    /// Asks the API server whether the current user may do `access`.
    private static func allowed(_ access: Access, api: HTTPKubeAPI) async -> Result<Bool, KubeAPIError> {
        var attributes: JSONObject = ["verb": .string(access.verb), "resource": .string(access.resource)]
        if !access.group.isEmpty { attributes["group"] = .string(access.group) }
        if !access.namespace.isEmpty { attributes["namespace"] = .string(access.namespace) }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": ["resourceAttributes": .object(attributes)],
        ]
        do {
            let answer = try await api.create(
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", object: review, fieldManager: "wherry")
            return .success(answer["status"]?["allowed"] == true)
        } catch {
            return .failure(error)
        }
    }

    /// Each repository's remote answers and has its branch.
    private func checkRemotes(_ config: WherryConfig, renderer: ServiceRenderer) async -> [Check] {
        var checks: [Check] = []
        for repository in config.repositories {
            let name = "remote \(repository.key)"
            let remote: GitRepository
            do {
                remote = try repository.gitRepository()
            } catch {
                checks.append(
                    Check(
                        name: "remote", ok: false,
                        message: "\(name): \(error.issues.map(\.description).joined(separator: "; "))"))
                continue
            }
            do {
                let head = try await renderer.git.resolve(remote)
                checks.append(
                    Check(
                        name: "remote", ok: true,
                        message:
                            "\(name) \(remote.displayURL) answers; branch \(repository.branch) at \(head.prefix(12))"
                    ))
            } catch {
                let problem =
                    error.kind == .branchNotFound
                    ? "has no branch \(repository.branch) (set branch: in \(config.file) or push it)"
                    : repository.explain(error) ?? error.message
                checks.append(Check(name: "remote", ok: false, message: "\(name) \(remote.displayURL): \(problem)"))
            }
        }
        return checks
    }

    /// kubectl with its bundled kustomize (kustomizations are built with `kubectl kustomize`).
    private func checkKubectl() async -> Check {
        let result: CommandResult
        do {
            result = try await CommandRunner.run(
                Command("kubectl", ["version", "--client", "--output=json"], timeout: .seconds(20)))
        } catch {
            return Check(
                name: "kubectl", ok: false,
                message:
                    "kubectl not found on PATH: install it (services whose directory has a kustomization.yaml are built with kubectl kustomize)"
            )
        }
        let version = try? JSONValue.parse(result.stdoutText)
        guard result.succeeded, let kustomize = version?["kustomizeVersion"]?.stringValue else {
            return Check(
                name: "kubectl", ok: false,
                message:
                    "kubectl has no bundled kustomize (kubectl version --client shows none): install kubectl 1.14 or newer"
            )
        }
        let client = version?["clientVersion"]?["gitVersion"]?.stringValue ?? "(version unknown)"
        return Check(name: "kubectl", ok: true, message: "kubectl \(client) with kustomize \(kustomize)")
    }

    /// The state directory exists (or can be created) and takes a file.
    private func checkStateDirectory(_ path: String) -> Check {
        let manager = FileManager.default
        let probe = path + "/.wherry-check-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data("check".utf8).write(to: URL(fileURLWithPath: probe))
            try manager.removeItem(atPath: probe)
            return Check(name: "state_dir", ok: true, message: "state dir \(path) is writable")
        } catch {
            return Check(
                name: "state_dir", ok: false,
                message: "state dir \(path) is not writable: \(error.localizedDescription) (pass --state-dir or set "
                    + "state_dir in the config)")
        }
    }
}
