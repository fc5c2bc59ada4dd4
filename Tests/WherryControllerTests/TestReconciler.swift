import Logging
import WherryController
import WherryGit
import WherryKube
import WherryTesting

/// What the controller tests build each time: a quiet reconciler on a git cache and an API server.
enum TestReconciler {
    /// A logger that says nothing.
    static var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// A reconciler reading Git through `cache` and applying through `api`.
    static func make(api: any KubeAPI, cache: TemporaryDirectory, store: any StatusStore) -> Reconciler {
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
            manager: ResourceManager(api: api, logger: quiet), logger: quiet)
        return Reconciler(syncer: syncer, store: store, logger: quiet)
    }

    /// A client of a fake API server.
    static func client(_ server: FakeAPIServer) throws -> HTTPKubeAPI {
        try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), logger: quiet)
    }
}
