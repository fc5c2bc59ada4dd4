import Crypto
import Foundation
public import Hummingbird
public import Prometheus
public import WherryController
import WherryModel

/// The controller's HTTP API: the seed's `/v1/gitops/repos`, per-service status and history, manual sync, and
/// health. Every answer is JSON; errors are `{"error": {"message": "..."}}` with the fitting status code, also those
/// a route throws (``JSONErrorMiddleware``).
public struct StatusAPI: Sendable {
    /// The loop's config: the one in force, also after a reload.
    public var config: WherryConfig { loop.config }
    public let store: any StatusStore
    public let loop: ReconcileLoop
    /// The token manual syncs must present; `nil` turns manual sync off (403, never open).
    let apiToken: String?
    /// The GitHub push webhook.
    private let webhook: GitHubWebhook
    /// What `/metrics` shows.
    private let metrics: PrometheusCollectorRegistry?
    /// The files of `artifacts_dir`, when configured.
    private let artifacts: ArtifactServer?
    /// The leader election, when several replicas run: only the leader reconciles.
    let elector: LeaderElector?
    /// `GET /v1/gitops/events`, when the loop reports to an ``EventBus``.
    private let events: EventStream?
    /// The web dashboard at `/` and `/services/{name}`.
    let dashboard: Dashboard?

    public init(
        config: WherryConfig, store: any StatusStore, loop: ReconcileLoop, apiToken: String?,
        webhookSecret: String? = nil, metrics: PrometheusCollectorRegistry? = nil, elector: LeaderElector? = nil,
        events: EventStream? = nil, dashboard: Dashboard? = nil
    ) {
        self.events = events
        self.dashboard = dashboard
        self.metrics = metrics
        self.elector = elector
        artifacts = config.artifactsDirectory.map { ArtifactServer(directory: $0) }
        self.store = store
        self.loop = loop
        self.apiToken = apiToken.flatMap { $0.isEmpty ? nil : $0 }
        webhook = GitHubWebhook(config: config, loop: loop, secret: webhookSecret, elector: elector)
    }

    /// The routes, on a router ready to serve.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        // First: middleware covers only the routes added after it.
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            // A follower is ready: it serves the API and stands by (a rollout must not wait for it to lead).
            if let elector, !elector.isLeader {
                return Self.json(["status": "standby", "leader": elector.leader.map(JSONValue.string) ?? .null])
            }
            return loop.isReady
                ? Self.json(["status": "ready"])
                : Self.error(.serviceUnavailable, "not ready: \(Self.readiness)")
        }
        router.get("/v1/gitops/repos") { _, _ in try await repos() }
        router.get("/v1/gitops/services") { _, _ in try await services() }
        router.get("/v1/gitops/services/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard let service = config.services.first(where: { $0.name == name }) else { return unknown(name) }
            return Self.json(try await serviceJSON(service))
        }
        router.get("/v1/gitops/services/:name/history") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard config.services.contains(where: { $0.name == name }) else { return unknown(name) }
            return Self.json(["service": .string(name), "history": try await history(name)])
        }
        router.post("/v1/gitops/services/:name/sync") { request, context in
            manualSync(request, name: context.parameters.get("name") ?? "")
        }
        registerControl(on: router)
        webhook.register(on: router)
        registerResources(on: router)
        router.get("/metrics") { _, _ in
            guard let metrics else { return Self.error(.notFound, "metrics are not collected by this server") }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        artifacts?.register(on: router)
        events?.register(on: router)
        dashboard?.register(on: router)
        for method: HTTPRequest.Method in [.get, .post, .put, .delete, .patch] {
            router.on("**", method: method) { request, _ in
                Self.error(.notFound, "no route \(request.method) \(request.uri.path)")
            }
        }
        return router
    }

    /// What `/readyz` waits for.
    static let readiness = "the first poll of every repository a service uses has not finished"

    // MARK: - Routes

    /// The seed's shape: `count`, `repos[{repo, url, branch, last_deploy_time, last_commit_id, services,
    /// service_count}]`, `timestamp`. The deploy time and commit are the last successful apply of any of the
    /// repository's services.
    private func repos() async throws -> Response {
        let statuses = Dictionary(uniqueKeysWithValues: try await store.statuses().map { ($0.service, $0) })
        let repositories = config.repositories.filter { repository in
            config.services.contains { $0.repository == repository.key }
        }
        let items: [JSONValue] = repositories.map { repository in
            let names = config.services.filter { $0.repository == repository.key }.map(\.name)
            let latest = names.compactMap { statuses[$0] }.filter { $0.lastAppliedAt != nil }
                .max { $0.lastAppliedAt! < $1.lastAppliedAt! }
            return [
                "repo": .string(repository.displayName), "url": .string(URLRedaction.redact(repository.url)),
                "branch": .string(repository.branch),
                "last_deploy_time": latest?.lastAppliedAt.map { .string(Self.time($0)) } ?? .null,
                "last_commit_id": latest?.lastAppliedRevision.map(JSONValue.string) ?? .null,
                "services": .array(names.map(JSONValue.string)), "service_count": .int(Int64(names.count)),
            ]
        }
        return Self.json([
            "count": .int(Int64(items.count)), "repos": .array(items), "timestamp": .string(Self.time(Date())),
        ])
    }

    private func services() async throws -> Response {
        var items: [JSONValue] = []
        for service in config.services { items.append(try await serviceJSON(service)) }
        let namespace = loop.reconciler.syncer.inventories.cluster.namespace
        let orphaned: [JSONValue] = loop.orphans.sorted { $0.key < $1.key }.map { name, count in
            let command = OrphanHint.command(service: name, config: config.file, namespace: namespace)
            return [
                "service": .string(name), "objects": .int(Int64(count)), "prune_command": .string(command),
                "hint": .string("no longer configured; its objects were left in place: \(command)"),
            ]
        }
        return Self.json(
            ["count": .int(Int64(items.count)), "services": .array(items), "orphaned": .array(orphaned)])
    }

    /// One service: where it comes from, what was applied, the last attempt, and the schedule.
    private func serviceJSON(_ service: ServiceConfig) async throws -> JSONValue {
        let status = try await store.status(of: service.name)
        let schedule = loop.schedules[service.name] ?? ServiceSchedule()
        let repository = config.repository(for: service)
        let suspension = loop.suspension(of: service.name)
        let state = ServiceStates.state(
            suspended: suspension != nil, running: schedule.running, waiting: loop.blocked[service.name] != nil,
            lastResult: status?.lastResult)
        var object: JSONObject = [
            "name": .string(service.name), "repo": .string(repository?.displayName ?? service.repository),
            "branch": .string(repository?.branch ?? ""), "k8s_yaml_dir": .string(service.directory),
            "suspended": .bool(suspension != nil), "suspended_by": suspension.map { .string($0.by.rawValue) } ?? .null,
            "suspended_at": suspension?.since.map { .string(Self.time($0)) } ?? .null, "state": .string(state),
            "last_applied_revision": status?.lastAppliedRevision.map(JSONValue.string) ?? .null,
            "head_revision": (try? loop.heads[service.repository]?.get()).map(JSONValue.string) ?? .null,
            "reconciled_revision": loop.reconciledRevisions[service.name].map(JSONValue.string) ?? .null,
            "last_applied_time": status?.lastAppliedAt.map { .string(Self.time($0)) } ?? .null,
            "last_attempt_time": status.map { .string(Self.time($0.lastAttemptAt)) } ?? .null,
            "last_result": status.map { .string($0.lastResult.rawValue) } ?? .null,
            "last_error": status?.lastError.map(JSONValue.string) ?? .null,
            "changes": ApplyAction.json(status?.counts ?? [:]),
            "duration_seconds": status.map { .double($0.durationSeconds) } ?? .null,
            "consecutive_failures": .int(Int64(schedule.failures)),
            "drift_corrections": .int(Int64(status?.driftCorrections ?? 0)),
            "last_drift": .array((status?.lastDrift ?? []).map(JSONValue.string)),
            "last_drift_time": status?.lastDriftAt.map { .string(Self.time($0)) } ?? .null,
            "last_write_time": status?.lastWriteAt.map { .string(Self.time($0)) } ?? .null,
            "last_write_revision": status?.lastWriteRevision.map(JSONValue.string) ?? .null,
            "last_check_time": status?.lastAppliedAt.map { .string(Self.time($0)) } ?? .null,
            "depends_on": .array(service.dependsOn.map(JSONValue.string)),
        ]
        if let dependency = loop.blocked[service.name] { object["waiting_for"] = .string(dependency) }
        if let namespace = service.namespace { object["namespace"] = .string(namespace) }
        return .object(object)
    }

    private func history(_ name: String) async throws -> JSONValue {
        .array(
            try await store.history(of: name).map { entry in
                [
                    "revision": .string(entry.revision), "result": .string(entry.result.rawValue),
                    "error": entry.error.map(JSONValue.string) ?? .null,
                    "first_time": .string(Self.time(entry.firstAt)), "last_time": .string(Self.time(entry.lastAt)),
                    "count": .int(Int64(entry.count)), "changes": ApplyAction.json(entry.counts),
                    "duration_seconds": .double(entry.durationSeconds),
                    "drifted": .array(entry.drifted.map(JSONValue.string)),
                ]
            })
    }

    /// `POST /v1/gitops/services/{name}/sync`: a bearer token is required; without one configured the route is
    /// off (403), never open. A follower answers 503 naming the leader: it would only queue the sync.
    private func manualSync(_ request: Request, name: String) -> Response {
        if let refused = authorize(request) { return refused }
        guard config.service(named: name) != nil else { return unknown(name) }
        if let elector, !elector.isLeader { return Self.notLeader(elector) }
        if loop.suspension(of: name)?.by == .api {
            return Self.error(
                .conflict, "service \(name) is suspended (wherry suspend); resume it first: wherry resume \(name)")
        }
        guard loop.trigger(service: name, .manual) else { return unknown(name) }
        return Self.json(["service": .string(name), "status": "queued"], status: .accepted)
    }

    /// `nil` when the request carries the API token; else the answer: 403 when no token is configured (the routes
    /// that change something are off, never open), 401 for a missing or wrong token.
    func authorize(_ request: Request) -> Response? {
        guard let apiToken else {
            return Self.error(
                .forbidden,
                "manual sync is off: set api_token_env in the config to the name of an environment variable that "
                    + "holds a token, and send it as 'Authorization: Bearer <token>'")
        }
        let presented = request.headers[.authorization].flatMap(Self.bearerToken)
        guard let presented, Self.sameToken(presented, apiToken) else {
            var response = Self.error(.unauthorized, "a valid 'Authorization: Bearer <token>' header is required")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return nil
    }

    func unknown(_ name: String) -> Response {
        Self.error(.notFound, "no service named '\(name)' in \(config.file)")
    }

    // MARK: - Encoding

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonString() + "\n")))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": ["message": .string(message)]], status: status)
    }

    /// What a follower answers to work only the leader does (a manual sync, a push): 503, naming the leader.
    static func notLeader(_ elector: LeaderElector) -> Response {
        error(
            .serviceUnavailable,
            "this replica is not the leader; send the request to the leader (\(elector.leader ?? "none yet"))")
    }

    /// ISO 8601 in UTC with `Z`, whole seconds, as the seed writes times.
    static func time(_ date: Date) -> String { date.formatted(.iso8601) }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235), and
    /// `nil` for another scheme or no token.
    static func bearerToken(_ header: String) -> String? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
            trimmed[..<space].lowercased() == "bearer"
        else { return nil }
        let token = trimmed[space...].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Whether two tokens are equal, compared as SHA-256 digests in constant time: neither where they differ nor
    /// the expected token's length shows in the time taken.
    static func sameToken(_ presented: String, _ expected: String) -> Bool {
        let (x, y) = (Array(SHA256.hash(data: Array(presented.utf8))), Array(SHA256.hash(data: Array(expected.utf8))))
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
