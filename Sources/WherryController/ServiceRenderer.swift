public import Logging
public import WherryGit
public import WherryModel
public import WherryRender

/// A service's desired state at one commit: the objects Wherry would apply, ownership labels set.
public struct RenderedService: Sendable {
    public var service: ServiceConfig
    public var repository: RepositoryConfig
    /// The commit the objects come from.
    public var commit: String
    /// Git tree id of the service's directory at that commit: unchanged tree, unchanged objects.
    public var treeHash: String
    public var objects: [KubeObject]
}

/// Rendering one service failed; says at which step and lists every problem.
public struct ServiceRenderError: Error, Sendable, CustomStringConvertible {
    /// The step that failed.
    public enum Step: String, Sendable {
        case credentials, git, render
    }

    public var service: String
    public var step: Step
    /// Problems, each already carrying its location or object.
    public var problems: [String]
    /// Whether a later attempt may succeed without a change (network trouble, a timeout).
    public var isTransient: Bool

    public var description: String {
        "service \(service): \(step.rawValue) failed:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Reads a service's manifests from Git and renders them: the first half of a reconcile, no cluster needed.
public struct ServiceRenderer: Sendable {
    public let git: any GitSource
    public let renderer: ManifestRenderer
    public let environment: [String: String]?
    private let logger: Logger

    public init(
        git: any GitSource, renderer: ManifestRenderer = ManifestRenderer(), environment: [String: String]? = nil,
        logger: Logger = Logger(label: "wherry.render")
    ) {
        self.git = git
        self.renderer = renderer
        self.environment = environment
        self.logger = logger
    }

    /// Resolves the branch head, checks it out, renders the directory and labels every object.
    public func render(
        _ service: ServiceConfig, in config: WherryConfig
    ) async throws(ServiceRenderError)
        -> RenderedService
    {
        guard let repositoryConfig = config.repository(for: service) else {
            throw ServiceRenderError(
                service: service.name, step: .credentials,
                problems: ["repository '\(service.repository)' is not configured"],
                isTransient: false)
        }
        let repository: GitRepository
        do {
            repository = try repositoryConfig.gitRepository(environment: environment)
        } catch {
            throw ServiceRenderError(
                service: service.name, step: .credentials, problems: error.issues.map(\.description), isTransient: false
            )
        }
        let checkout: GitCheckout
        let tree: String
        do {
            let commit = try await git.resolve(repository)
            checkout = try await git.checkout(repository, commit: commit)
            tree = try await git.treeHash(repository, commit: commit, path: service.directory)
        } catch {
            let problem =
                error.kind == .pathNotFound
                ? "k8s_yaml_dir: \(error.message) in \(error.remote) (\(repositoryConfig.branch))" : error.description
            throw ServiceRenderError(
                service: service.name, step: .git, problems: [problem], isTransient: error.isTransient)
        }
        var objects: [KubeObject]
        do {
            objects = try await renderer.render(root: checkout.path, directory: service.directory)
        } catch {
            throw ServiceRenderError(
                service: service.name, step: .render, problems: error.issues.map(\.description), isTransient: false)
        }
        let labels = WherryLabels.ownership(service: service.name)
        for index in objects.indices { objects[index].setLabels(labels) }
        logger.debug(
            "Rendered service",
            metadata: [
                "wherry.service": "\(service.name)", "wherry.revision": "\(checkout.commit)",
                "wherry.objects": "\(objects.count)",
            ])
        return RenderedService(
            service: service, repository: repositoryConfig, commit: checkout.commit, treeHash: tree, objects: objects)
    }
}

extension ServiceRenderer {
    /// Renders services concurrently (services on one repository share its `ls-remote` and fetch); results come
    /// back in the order of `services`.
    public func renderAll(
        _ services: [ServiceConfig], in config: WherryConfig
    ) async
        -> [Result<RenderedService, ServiceRenderError>]
    {
        await concurrentMap(services, limit: services.count) { service in await outcome(of: service, in: config) }
    }

    private func outcome(
        of service: ServiceConfig, in config: WherryConfig
    ) async
        -> Result<RenderedService, ServiceRenderError>
    {
        do {
            return .success(try await render(service, in: config))
        } catch {
            return .failure(error)
        }
    }
}
