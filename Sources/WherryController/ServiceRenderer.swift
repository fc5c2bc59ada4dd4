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
    /// Digest of everything the render read at that commit (the directory's tree id first): see
    /// ``ServiceCheckout/treeHash``.
    public var treeHash: String
    public var objects: [KubeObject]
    /// Per object decrypted from SOPS, the JSON pointers of the values that were encrypted: what
    /// ``displayObjects(showSecrets:)`` hides.
    public var encryptedValues: [ObjectRef: [String]] = [:]

    /// The pointers of the values decrypted from SOPS in the object `ref` names; an object rendered without a
    /// namespace is found under the namespace the server gave it too.
    public func encryptedPointers(of ref: ObjectRef) -> [String] {
        if let pointers = encryptedValues[ref] { return pointers }
        var bare = ref
        bare.namespace = ""
        return encryptedValues[bare] ?? []
    }

    /// The objects for people to read: decrypted values masked (`***`) unless `showSecrets`.
    public func displayObjects(showSecrets: Bool) -> [KubeObject] {
        guard !showSecrets, !encryptedValues.isEmpty else { return objects }
        return objects.map { object in
            guard let pointers = encryptedValues[object.ref] else { return object }
            return KubeObject(body: SecretMasking.masking(object.body, at: pointers), source: object.source)
        }
    }
}

/// Rendering one service failed; says at which step and lists every problem.
public struct ServiceRenderError: Error, Sendable, CustomStringConvertible {
    /// The step that failed.
    public enum Step: String, Sendable {
        case credentials, git, verify, render
    }

    public var service: String
    public var step: Step
    /// Problems, each already carrying its location or object.
    public var problems: [String]
    /// Whether a later attempt may succeed without a change (network trouble, a timeout).
    public var isTransient: Bool
    /// The commit the failure is about, when it is about one commit (a signature refused at it).
    public var commit: String? = nil
    /// The render step's problems with their file, line and object, for reports (`problems` has them as text).
    public var issues: [RenderIssue] = []

    public var description: String {
        "service \(service): \(step.rawValue) failed:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Reads a service's manifests from Git and renders them: the first half of a reconcile, no cluster needed.
public struct ServiceRenderer: Sendable {
    public let git: any GitSource
    public let renderer: ManifestRenderer
    public let environment: [String: String]?
    /// Decrypts SOPS-encrypted objects right after the manifests are read.
    public let decryptor: SOPSDecryptor
    let logger: Logger

    public init(
        git: any GitSource, renderer: ManifestRenderer = ManifestRenderer(), environment: [String: String]? = nil,
        decryptor: SOPSDecryptor = SOPSDecryptor(), logger: Logger = Logger(label: "wherry.render")
    ) {
        self.git = git
        self.renderer = renderer
        self.environment = environment
        self.decryptor = decryptor
        self.logger = logger
    }

    /// Resolves the branch head (unless `resolved` already holds the answer of `ls-remote` for the service's
    /// repository), checks it out, renders the directory and labels every object.
    public func render(
        _ service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>? = nil
    ) async throws(ServiceRenderError)
        -> RenderedService
    {
        try await render(try await locate(service, in: config, resolved: resolved))
    }

    /// The first, cheap half of rendering: the commit checked out and the digest of everything its render reads,
    /// enough to tell whether anything changed for it. Only kustomization files are read, no manifest.
    public func locate(
        _ service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>? = nil
    ) async throws(ServiceRenderError)
        -> ServiceCheckout
    {
        let (repositoryConfig, repository) = try gitRepository(for: service, in: config)
        var head: String?
        do {
            let commit: String
            if let resolved { commit = try resolved.get() } else { commit = try await git.resolve(repository) }
            head = commit
            let checkout = try await git.checkout(repository, commit: commit)
            if let verification = repositoryConfig.verification {
                try await git.verify(repository, commit: commit, with: verification)
            }
            let tree = try await renderDigest(
                of: service, in: config, repository: repository, checkout: checkout)
            return ServiceCheckout(
                service: service, repository: repositoryConfig, checkout: checkout, treeHash: tree,
                decryption: config.decryption(for: service))
        } catch  where error.kind == .untrustedCommit {
            throw ServiceRenderError(
                service: service.name, step: .verify, problems: [error.message], isTransient: false,
                commit: head)
        } catch {
            let key =
                service.configDirectory.map { error.message.contains($0) } == true
                    && !error.message.contains(service.directory) ? "config_dir" : "k8s_yaml_dir"
            let problem =
                if error.kind == .pathNotFound {
                    "\(key): \(error.message) in \(error.remote) (\(repositoryConfig.branch))"
                } else if let explained = repositoryConfig.explain(error) {
                    "git \(error.operation) \(error.remote): \(explained)"
                } else {
                    error.description
                }
            throw ServiceRenderError(
                service: service.name, step: .git, problems: [problem], isTransient: error.isTransient)
        }
    }

    /// The second half: reads the directory of a located service and labels every object.
    public func render(_ located: ServiceCheckout) async throws(ServiceRenderError) -> RenderedService {
        let service = located.service
        var objects: [KubeObject]
        var encryptedValues: [ObjectRef: [String]] = [:]
        do {
            objects = try await renderer.render(root: located.checkout.path, directory: service.directory)
            let decrypted = try await decrypt(objects, located)
            (objects, encryptedValues) = (decrypted.objects, decrypted.encryptedValues)
            objects = try Self.addSeedFeatures(to: objects, service: service, root: located.checkout.path)
        } catch {
            throw ServiceRenderError(
                service: service.name, step: .render, problems: error.issues.map(\.description), isTransient: false,
                issues: error.issues)
        }
        let labels = WherryLabels.ownership(service: service.name)
        for index in objects.indices { objects[index].setLabels(labels) }
        logger.debug(
            "Rendered service",
            metadata: [
                "wherry.service": "\(service.name)", "wherry.revision": "\(located.checkout.commit)",
                "wherry.objects": "\(objects.count)",
            ])
        return RenderedService(
            service: service, repository: located.repository, commit: located.checkout.commit,
            treeHash: located.treeHash, objects: objects, encryptedValues: encryptedValues)
    }
}

extension ServiceRenderer {
    /// Renders a service from a local directory instead of its branch (`wherry diff --path`): the same reading,
    /// kustomize build, decryption and labels as a commit gets. `root` stands for the repository root (the paths of
    /// `config_dir` and kustomize bases are read against it), `directory` is the manifests' directory inside it.
    /// The result's commit is `local`.
    public func renderLocal(
        _ service: ServiceConfig, in config: WherryConfig, root: String, directory: String
    ) async throws(ServiceRenderError) -> RenderedService {
        guard let repositoryConfig = config.repository(for: service) else {
            throw ServiceRenderError(
                service: service.name, step: .credentials,
                problems: ["repository '\(service.repository)' is not configured"], isTransient: false)
        }
        var local = service
        local.directory = directory
        return try await render(
            ServiceCheckout(
                service: local, repository: repositoryConfig, checkout: GitCheckout(commit: "local", path: root),
                treeHash: "local", decryption: config.decryption(for: service)))
    }
}

extension ServiceRenderer {
    /// The config files of `config_dir` as ConfigMap `<service>-config`, the stateless mutation, and the config
    /// hash on every pod template that uses that ConfigMap (so a config change rolls it).
    static func addSeedFeatures(
        to objects: [KubeObject], service: ServiceConfig, root: String
    ) throws(RenderFailure) -> [KubeObject] {
        var objects = objects
        if let directory = service.configDirectory {
            let handler = ConfigFilesHandler()
            let files = try HandlerDirectoryReader.files(root: root, directory: directory, handler: handler)
            objects += try handler.objects(from: files, service: service.name)
            try ManifestRenderer.rejectDuplicates(objects)
        }
        if let mutation = service.statelessMutation { objects = mutation.apply(to: objects) }
        let name = ConfigFilesHandler.configMapName(service: service.name)
        guard
            let hash = objects.first(where: { $0.kind == "ConfigMap" && $0.name == name })?.annotations[
                ConfigFilesHandler.hashAnnotation]
        else { return objects }
        return objects.map { object in
            guard StatelessMutation.workloadKinds.contains(object.kind),
                case .object(var spec)? = object.body["spec"], case .object(var template)? = spec["template"],
                Self.mentions(template["spec"], name)
            else { return object }
            var metadata = template["metadata"]?.objectValue ?? JSONObject()
            var annotations = metadata["annotations"]?.objectValue ?? JSONObject()
            annotations[ConfigFilesHandler.hashAnnotation] = .string(hash)
            metadata["annotations"] = .object(annotations)
            template["metadata"] = .object(metadata)
            spec["template"] = .object(template)
            var changed = object
            changed.body["spec"] = .object(spec)
            return changed
        }
    }

    /// Whether a pod spec names the ConfigMap (volumes, envFrom, valueFrom).
    static func mentions(_ value: JSONValue?, _ name: String) -> Bool {
        switch value {
        case .object(let object)?:
            if (object["configMap"] ?? object["configMapRef"] ?? object["configMapKeyRef"])?["name"]?.stringValue
                == name
            {
                return true
            }
            return object.members.contains { mentions($0.value, name) }
        case .array(let items)?: return items.contains { mentions($0, name) }
        default: return false
        }
    }
}

/// A service's directory at one commit, checked out but not yet read.
public struct ServiceCheckout: Sendable {
    public var service: ServiceConfig
    public var repository: RepositoryConfig
    public var checkout: GitCheckout
    /// Digest of everything the render reads, `<tree id of k8s_yaml_dir>+<digest>`: the directory, config files,
    /// kustomize bases, components and patch files outside it, symbolic link targets, Wherry's version and the
    /// settings that change the outcome. Equal digests, equal objects; a service whose render reads something Git
    /// does not pin (a remote base) gets a new digest on every call.
    public var treeHash: String
    /// How its SOPS-encrypted objects are decrypted, if at all.
    public var decryption: DecryptionConfig? = nil

    /// The commit.
    public var commit: String { checkout.commit }
}

extension ServiceRenderer {
    /// Services rendered at once: each may run git and kubectl, so this bounds processes and open files.
    public static let servicesAtOnce = 16

    /// Renders services, ``servicesAtOnce`` at a time, after one `ls-remote` per repository (so services on one
    /// repository render the same commit, and an unreachable remote is asked once, not once per service). Results
    /// come back in the order of `services`.
    public func renderAll(
        _ services: [ServiceConfig], in config: WherryConfig
    ) async
        -> [Result<RenderedService, ServiceRenderError>]
    {
        var firstOfRepository: [String: ServiceConfig] = [:]
        for service in services where firstOfRepository[service.repository] == nil {
            firstOfRepository[service.repository] = service
        }
        let resolvedHeads = await concurrentMap(Array(firstOfRepository.values), limit: 8) { service in
            (service.repository, await head(of: service, in: config))
        }
        var heads: [String: Result<String, GitError>] = [:]
        for case (let key, let head?) in resolvedHeads { heads[key] = head }
        let resolved = heads
        return await concurrentMap(services, limit: Self.servicesAtOnce) { service in
            await outcome(of: service, in: config, resolved: resolved[service.repository])
        }
    }

    /// The branch head of a service's repository; `nil` when the repository cannot even be described (the
    /// service's own render then reports why).
    private func head(of service: ServiceConfig, in config: WherryConfig) async -> Result<String, GitError>? {
        guard let (_, repository) = try? gitRepository(for: service, in: config) else { return nil }
        do {
            return .success(try await git.resolve(repository))
        } catch {
            return .failure(error)
        }
    }

    private func outcome(
        of service: ServiceConfig, in config: WherryConfig, resolved: Result<String, GitError>?
    ) async
        -> Result<RenderedService, ServiceRenderError>
    {
        do {
            return .success(try await render(service, in: config, resolved: resolved))
        } catch {
            return .failure(error)
        }
    }

    /// The service's repository settings and the git remote they describe, credentials read.
    func gitRepository(
        for service: ServiceConfig, in config: WherryConfig
    ) throws(ServiceRenderError) -> (RepositoryConfig, GitRepository) {
        guard let repositoryConfig = config.repository(for: service) else {
            throw ServiceRenderError(
                service: service.name, step: .credentials,
                problems: ["repository '\(service.repository)' is not configured"],
                isTransient: false)
        }
        do {
            return (repositoryConfig, try repositoryConfig.gitRepository(environment: environment))
        } catch {
            throw ServiceRenderError(
                service: service.name, step: .credentials, problems: error.issues.map(\.description), isTransient: false
            )
        }
    }
}
