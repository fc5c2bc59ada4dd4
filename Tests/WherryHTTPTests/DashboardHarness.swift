import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import WherryController
import WherryGit
import WherryHTTP
import WherryKube
import WherryModel
import WherryTesting

/// A dashboard over a config and a store, with a loop that is built but not running, and the routes of the API.
struct DashboardHarness {
    let config: WherryConfig
    let store: any StatusStore
    let loop: ReconcileLoop
    let dashboard: Dashboard
    let bus: EventBus
    let token: String?

    /// Runs `body` with a harness over `configText`, changed by `adjust` (names the config loader would refuse).
    static func with(
        configText: String, token: String? = "s3cret", store: any StatusStore = InMemoryStatusStore(),
        adjust: (inout WherryConfig) -> Void = { _ in }, _ body: (DashboardHarness) async throws -> Void
    ) async throws {
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { cache.remove() }
        var config = try ConfigLoader.parse(configText, file: "gitops-config.yaml", baseDirectory: "/").config
        adjust(&config)
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let api = try HTTPKubeAPI(connection: KubeConnection(server: "http://127.0.0.1:1"), logger: quiet)
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
            manager: ResourceManager(api: api, logger: quiet), logger: quiet)
        let loop = ReconcileLoop(
            config: config, reconciler: Reconciler(syncer: syncer, store: store, logger: quiet), logger: quiet)
        let dashboard = try Dashboard(config: config, store: store, loop: loop, tokenConfigured: token != nil)
        let harness = DashboardHarness(
            config: config, store: store, loop: loop, dashboard: dashboard, bus: EventBus(epoch: "t"), token: token)
        do {
            try await body(harness)
        } catch {
            await api.shutdown()
            throw error
        }
        await api.shutdown()
    }

    /// The whole HTTP API with the dashboard and the event stream (heartbeat every `heartbeat`).
    func application(heartbeat: Duration = .seconds(15)) -> some ApplicationProtocol {
        Application(
            router: StatusAPI(
                config: config, store: store, loop: loop, apiToken: token,
                events: EventStream(bus: bus, heartbeat: heartbeat), dashboard: dashboard
            ).router(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)))
    }
}
