public import Logging
public import WherryKube
public import WherryModel

/// The outcome of syncing one service.
public struct SyncResult: Sendable {
    public var service: String
    public var commit: String
    public var changes: ChangeSet
}

/// Syncing one service failed, at rendering or at applying.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    case render(ServiceRenderError)
    case apply(service: String, commit: String, ApplyError)

    public var description: String {
        switch self {
        case .render(let error): error.description
        case .apply(let service, let commit, let error):
            "service \(service) at \(commit.prefix(12)): \(error.description)"
        }
    }
}

/// One sync of a service: render from Git, then apply to the cluster as a unit.
public struct ServiceSyncer: Sendable {
    public let renderer: ServiceRenderer
    public let manager: ResourceManager
    /// Objects written at once.
    public var concurrency: Int
    /// Namespace for namespaced objects when neither they nor the service name one.
    public var defaultNamespace: String
    private let logger: Logger

    public init(
        renderer: ServiceRenderer, manager: ResourceManager, concurrency: Int = 8, defaultNamespace: String = "default",
        logger: Logger = Logger(label: "wherry.sync")
    ) {
        self.renderer = renderer
        self.manager = manager
        self.concurrency = concurrency
        self.defaultNamespace = defaultNamespace
        self.logger = logger
    }

    /// Options for applying one service's objects.
    public func applyOptions(for service: ServiceConfig, dryRun: Bool) -> ApplySetOptions {
        ApplySetOptions(
            defaultNamespace: service.namespace ?? defaultNamespace,
            liveSelector: "\(WherryLabels.service)=\(service.name)",
            concurrency: concurrency, dryRun: dryRun)
    }

    /// Renders and applies one service.
    public func sync(
        _ service: ServiceConfig, in config: WherryConfig, dryRun: Bool = false
    ) async throws(SyncError)
        -> SyncResult
    {
        let rendered: RenderedService
        do {
            rendered = try await renderer.render(service, in: config)
        } catch {
            throw .render(error)
        }
        do {
            let changes = try await manager.apply(rendered.objects, options: applyOptions(for: service, dryRun: dryRun))
            logger.info(
                "Synced service",
                metadata: [
                    "wherry.service": "\(service.name)", "wherry.revision": "\(rendered.commit)",
                    "wherry.changes": "\(changes.summary)", "wherry.dry_run": "\(dryRun)",
                ])
            return SyncResult(service: service.name, commit: rendered.commit, changes: changes)
        } catch {
            throw .apply(service: service.name, commit: rendered.commit, error)
        }
    }
}
