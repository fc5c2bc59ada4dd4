import Logging
import ServiceLifecycle
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

    /// Runs `body` with a client of a fresh FakeAPIServer, closing the client also when `body` throws (a client not
    /// closed crashes the test run instead of failing the test).
    static func withClient(_ body: @Sendable (HTTPKubeAPI, FakeAPIServer) async throws -> Void) async throws {
        try await FakeAPIServer.withServer { server in
            let api = try client(server)
            do {
                try await body(api, server)
            } catch {
                await api.shutdown()
                throw error
            }
            await api.shutdown()
        }
    }

    /// Waits up to `seconds` for `condition`, checking every 100 ms.
    static func eventually(_ seconds: Int = 15, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// A ConfigMap in `default` with one value.
    static func configMap(_ name: String, _ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: default\ndata:\n  k: \"\(value)\"\n"
    }

    /// Runs a loop over `text` (a config) until `body` returns; `controllerBacklogLimit` replaces the reconciler's
    /// when given.
    static func withLoop(
        _ server: FakeAPIServer, config text: String, store: InMemoryStatusStore = InMemoryStatusStore(),
        maxConcurrentServices: Int = 4, controllerBacklogLimit: Int? = nil,
        events: @escaping ControllerEventSink = { _ in },
        _ body: @Sendable (ReconcileLoop, InMemoryStatusStore) async throws -> Void
    ) async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let api = try TestReconciler.client(server)
        var reconciler = TestReconciler.make(api: api, cache: cache, store: store)
        if let controllerBacklogLimit { reconciler.controllerBacklogLimit = controllerBacklogLimit }
        let loop = ReconcileLoop(
            config: config, reconciler: reconciler, maxConcurrentServices: maxConcurrentServices,
            logger: TestReconciler.quiet, events: events)
        let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: TestReconciler.quiet)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                do {
                    try await body(loop, store)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } catch {
            await api.shutdown()
            throw error
        }
        await api.shutdown()
    }
}
