import Foundation
public import Hummingbird
import Mustache
public import WherryController
public import WherryModel

/// Asks the cluster for the live health of some objects (one GET each); an object it could not read has the reason.
public typealias HealthProbe = @Sendable ([InventoryEntry]) async -> [ObjectRef: Result<Health, HealthProbeError>]

/// The web dashboard on the API's listener: the overview at `GET /`, a page per service at
/// `GET /services/{name}`, and its script and style at `/assets/…`. Pages are rendered on the server from mustache
/// templates (every value HTML-escaped) and follow the event stream; templates and assets are package resources,
/// so it works offline with nothing else installed.
public struct Dashboard: Sendable {
    /// The loop's config: the one in force, also after a reload.
    public var config: WherryConfig { loop.config }
    public let store: any StatusStore
    public let loop: ReconcileLoop
    let library: MustacheLibrary
    let assets: [String: Asset]
    let tokenConfigured: Bool
    let health: HealthProbe?
    let lastActions: LastActions
    /// The event stream the pages follow: each page says which event it was rendered at.
    let events: EventBus?
    /// How long a service page waits for the cluster's health answers before it says so.
    let healthDeadline: Duration

    struct Asset: Sendable {
        var contentType: String
        var body: ByteBuffer
    }

    /// Loads the templates and assets; a missing or broken one is an error naming the file.
    public init(
        config: WherryConfig, store: any StatusStore, loop: ReconcileLoop, tokenConfigured: Bool,
        health: HealthProbe? = nil, lastActions: LastActions = LastActions(), events: EventBus? = nil,
        healthDeadline: Duration = .seconds(5)
    ) throws(DashboardError) {
        self.events = events
        self.store = store
        self.loop = loop
        self.tokenConfigured = tokenConfigured
        self.health = health
        self.lastActions = lastActions
        self.healthDeadline = healthDeadline
        library = try Self.templates()
        assets = try Self.assets()
    }

    /// Adds the routes.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.html(try await overview()) }
        router.get("/services/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard let page = try await servicePage(name) else {
                return StatusAPI.error(.notFound, "no service named '\(name)' in \(config.file)")
            }
            return Self.html(page)
        }
        router.get("/assets/:file") { _, context in
            guard let asset = assets[context.parameters.get("file") ?? ""] else {
                return StatusAPI.error(.notFound, "no such asset")
            }
            return Response(
                status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: asset.body))
        }
    }

    /// The overview's HTML.
    public func overview() async throws -> String {
        // Read before the state: an event after it is replayed to the page, never lost between render and connect.
        let after = events?.lastEventID ?? ""
        let snapshot = try await ControllerSnapshot.read(config: config, store: store, loop: loop)
        var page = OverviewPage(snapshot)
        page.lastEvent = after
        return render(page, template: "overview")
    }

    /// A service page's HTML; `nil` for a service that is not configured.
    public func servicePage(_ name: String) async throws -> String? {
        guard let service = config.service(named: name) else { return nil }
        let after = events?.lastEventID ?? ""
        let snapshot = try await ControllerSnapshot.read(config: config, store: store, loop: loop)
        let inventory = try await store.inventory(of: name)
        let (report, note) = await liveHealth(inventory?.entries ?? [])
        var page = ServicePage(
            service: service, snapshot: snapshot, history: try await store.history(of: name), inventory: inventory,
            health: report, healthNote: note, lastActions: lastActions.of(name), tokenConfigured: tokenConfigured)
        page.lastEvent = after
        return render(page, template: "service")
    }

    func render(_ page: Any, template: String) -> String {
        // Both templates are loaded at init: a missing one is caught there.
        library.render(page, withTemplate: template) ?? ""
    }

    /// Health of a service's objects as the probe reports it, within ``healthDeadline``; a note when there is no
    /// cluster connection or it was too slow.
    func liveHealth(_ entries: [InventoryEntry]) async -> (ServicePage.HealthReport, String?) {
        guard let health, !entries.isEmpty else {
            return ([:], entries.isEmpty ? nil : "Live health is not available without a cluster connection.")
        }
        let deadline = healthDeadline
        let report = await withTaskGroup(of: ServicePage.HealthReport?.self) { group in
            group.addTask { await health(entries) }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let report else {
            return ([:], "The cluster did not answer health checks within \(deadline); reload to try again.")
        }
        return (report, nil)
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - Resources

    static func resourceDirectory(_ name: String) throws(DashboardError) -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil) else {
            throw DashboardError("the dashboard's \(name) are missing from \(Bundle.module.bundlePath)")
        }
        return url
    }

    static func templates() throws(DashboardError) -> MustacheLibrary {
        let directory = try resourceDirectory("Templates")
        var library = MustacheLibrary()
        for name in ["header", "footer", "overview", "service"] {
            let file = directory.appendingPathComponent("\(name).mustache")
            do {
                library.register(
                    try MustacheTemplate(string: try String(contentsOf: file, encoding: .utf8)), named: name)
            } catch {
                throw DashboardError("cannot load the dashboard template \(file.path): \(error)")
            }
        }
        return library
    }

    static func assets() throws(DashboardError) -> [String: Asset] {
        let directory = try resourceDirectory("Assets")
        var assets: [String: Asset] = [:]
        for (name, type) in [
            ("dashboard.js", "text/javascript; charset=utf-8"), ("dashboard.css", "text/css; charset=utf-8"),
        ] {
            let file = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw DashboardError("cannot read the dashboard asset \(file.path)")
            }
            assets[name] = Asset(contentType: type, body: ByteBuffer(bytes: data))
        }
        return assets
    }
}

/// The dashboard's resources could not be loaded (a broken installation): says which file.
public struct DashboardError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
