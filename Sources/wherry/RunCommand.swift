import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import WherryController
import WherryHTTP
import WherryKube

/// `wherry run`: the controller — the reconcile loop and the HTTP API, until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the controller: poll Git, apply what changed, serve the status API.",
        discussion: """
            Polls every repository once per poll_interval (one ls-remote each) and applies each service whose \
            directory changed since its last successful apply; failures are retried with backoff. What was applied \
            is kept in <state-dir>/wherry.sqlite, so a restart does not re-apply unchanged services. The status API \
            (GET /v1/gitops/repos, /v1/gitops/services, /healthz, /readyz; POST .../sync and the GitHub push webhook \
            /v1/gitops/webhook/github) listens on --listen. SIGTERM or SIGINT \
            stops polling, lets applies in flight finish (cancelling what is left when --shutdown-timeout nears), \
            delivers the notifications they produced, and exits 0. With --leader-elect, the leader renews its Lease \
            on a connection of its own and sends no write once its last renewal is older than \
            --lease-renew-deadline, even after a pause of the whole process.

            Examples:
              wherry run -c /etc/gitops/gitops-config.yaml --listen 0.0.0.0:8080
              wherry run --state-dir /var/lib/wherry --leader-elect --log-format json
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var kube: KubeOptions

    @Option(help: "Address of the HTTP API, HOST:PORT.")
    var listen: String = "127.0.0.1:8080"

    @Flag(
        help: """
            Reconcile only while holding the Lease wherry-leader in --namespace, so several replicas can run; the \
            others serve the API and stand by.
            """)
    var leaderElect = false

    @Option(help: "This replica's name in the Lease (default: $POD_NAME, else the host name and process id).")
    var identity: String?

    @Option(help: "Seconds another replica waits after the leader's last renewal before taking over.")
    var leaseDuration: Double = 15

    @Option(help: "Seconds the leader keeps leading while renewals fail (less than --lease-duration).")
    var leaseRenewDeadline: Double = 10

    @Option(help: "Seconds between renewals and between attempts to take over.")
    var leaseRetryPeriod: Double = 2

    @Option(
        help: """
            Seconds from SIGTERM to exit: applies in flight may finish within it (less a few seconds left to deliver \
            notifications); what is left then is cancelled. Keep it below the Pod's terminationGracePeriodSeconds \
            (wherry install does).
            """)
    var shutdownTimeout: Double = 25

    func validate() throws {
        guard Self.address(listen) != nil else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        }
        guard leaseRetryPeriod > 0, leaseRenewDeadline > leaseRetryPeriod, leaseDuration > leaseRenewDeadline else {
            throw ValidationError(
                "lease timings must satisfy 0 < --lease-retry-period < --lease-renew-deadline < --lease-duration")
        }
        guard shutdownTimeout > 0 else { throw ValidationError("--shutdown-timeout must be more than 0 seconds") }
    }

    /// The whole graceful shutdown's bound.
    var shutdownLimit: Duration { .milliseconds(Int(shutdownTimeout * 1000)) }

    /// How long the reconcile loop may drain: the shutdown timeout less a quarter of it (at most 5 s), kept for the
    /// HTTP server and the notifications the drain produced, which stop after it.
    var drainLimit: Duration { shutdownLimit - min(shutdownLimit / 4, .seconds(5)) }

    func run() async throws {
        // A SIGHUP (reload the config) that arrives before the watcher listens must not end the process.
        signal(SIGHUP, SIG_IGN)
        // Taken before the config is read: a change made while it loads is seen by the watcher's first look.
        let configIdentity = ConfigWatcher.identity(of: options.configPath)
        options.logging.bootstrap()
        let config = try options.load().config
        let stateDirectory = options.stateDirectory(config)
        // Claimed before anything else: nothing runs (no warning, no request) when they cannot be had.
        let (host, port) = Self.address(listen)!
        try RunStartup.checkListen(listen, host: host, port: port)
        let lock = try RunStartup.lockStateDirectory(stateDirectory)
        defer { close(lock) }
        let store: CachingStatusStore
        do {
            store = CachingStatusStore(try SQLiteStatusStore(directory: stateDirectory))
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
        let apiToken = config.apiTokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
        if let name = config.apiTokenEnv, apiToken == nil {
            Terminal.error("api_token_env names \(name), which is not set: manual sync stays off")
        }
        let webhookSecret = config.webhookSecretEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
        if let name = config.webhookSecretEnv, webhookSecret == nil {
            Terminal.error("webhook_secret_env names \(name), which is not set: the GitHub webhook stays off")
        }
        let registry = PrometheusCollectorRegistry()
        let (api, clientConfig) = try kube.connect(
            logger: Logger(label: "wherry.kube"), onRequest: Self.requestCounter(registry))
        var syncer = ServiceSyncer(
            renderer: options.serviceRenderer(for: config),
            manager: ResourceManager(api: api, logger: Logger(label: "wherry.apply")),
            concurrency: kube.concurrency, defaultNamespace: clientConfig.namespace,
            inventories: kube.inventories(api, config: config, store: store))
        syncer.applyer = try await kube.installApplyer(config, stateDirectory: options.stateDirectory(config))
        // Only the leader writes, and only while its lease cannot have expired: the native client checks this fence
        // before every write, and an external applier (kubectl, nokube) is not started once it is closed.
        let fence = leaderElect ? WriteFence() : nil
        syncer.fence = fence
        let bus = EventBus()
        let lastActions = LastActions()
        let events: ControllerEventSink = { event in
            lastActions.record(event)
            bus.publish(event)
        }
        let notifier = Notifier(
            url: config.notificationURL(environment: ProcessInfo.processInfo.environment), events: events)
        let loop = ReconcileLoop(
            config: config, reconciler: Reconciler(syncer: syncer, store: store),
            maxConcurrentServices: kube.maxConcurrentServices ?? 16,
            metrics: ControllerMetrics(factory: PrometheusMetricsFactory(registry: registry)),
            notify: { notifier?.notify($0) }, events: events)
        let manager = syncer.manager
        let dashboard: Dashboard
        do {
            dashboard = try Dashboard(
                config: config, store: store, loop: loop, tokenConfigured: apiToken?.isEmpty == false,
                health: { entries in
                    await manager.liveHealth(of: entries).mapValues { result in
                        result.mapError { HealthProbeError("\($0)") }
                    }
                }, lastActions: lastActions, events: bus)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.failure.code
        }
        let timings = LeaseTimings(
            leaseDuration: .milliseconds(Int(leaseDuration * 1000)),
            renewDeadline: .milliseconds(Int(leaseRenewDeadline * 1000)),
            retryPeriod: .milliseconds(Int(leaseRetryPeriod * 1000)))
        // The Lease is renewed on a client of its own: the reconcile client's retries, timeouts and queue of
        // requests must not hold a renewal up.
        let leaseClient = try leaderElect ? Self.renewalClient(for: api, timings: timings) : nil
        let elector = leaseClient.map { client in
            LeaderElector(
                api: client, namespace: kube.namespace, identity: identity ?? Self.defaultIdentity(),
                timings: timings, pod: Self.ownPod(), fence: fence ?? WriteFence())
        }
        if let elector { api.fenceWrites(with: elector.fence) }
        let drain = BoundedDrain(loop, limit: drainLimit)
        let logger = Logger(label: "wherry.http")
        let app = Application(
            router: StatusAPI(
                config: config, store: store, loop: loop, apiToken: apiToken, webhookSecret: webhookSecret,
                metrics: registry, elector: elector, events: EventStream(bus: bus), dashboard: dashboard
            ).router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "wherry"),
            onServerRunning: { channel in
                // With port 0 the system picks one: say which, for whoever started us.
                let bound = channel.localAddress?.port ?? port
                Terminal.info("wherry: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)")
            },
            logger: logger)
        // A ServiceGroup stops its services in reverse order: the loop drains first, then the HTTP server, and the
        // notifier last, so it still delivers what the drain reported.
        let watcher = ConfigWatcher(path: options.configPath, loop: loop, identity: configIdentity)
        let services: [any Service] =
            (notifier.map { [$0] } ?? []) + [
                app, bus, watcher, HeapTrimmer(),
                elector.map { LeaderElectedLoop(elector: $0, work: drain) as any Service } ?? drain,
            ]
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "wherry"))
        configuration.maximumGracefulShutdownDuration = shutdownLimit
        let group = ServiceGroup(configuration: configuration)
        Logger(label: "wherry").info(
            "Wherry controller starting",
            metadata: [
                "wherry.listen": "\(listen)", "wherry.services": .stringConvertible(config.services.count),
                "wherry.state_dir": "\(stateDirectory)",
            ])
        do {
            try await group.run()
        } catch  where drain.shutdownBegan {
            // Asked to stop, and stopped: what was cut short at the shutdown timeout is not a failure of the run.
            Logger(label: "wherry").warning(
                "Stopped at the shutdown timeout", metadata: ["wherry.error": "\(error)"])
        }
        await api.shutdown()
        await leaseClient?.shutdown()
    }

    /// Counts requests to the API server as `wherry_kube_requests_total{method,dry_run}`.
    static func requestCounter(_ registry: PrometheusCollectorRegistry) -> @Sendable (String, Bool) -> Void {
        let counters = Dictionary(
            uniqueKeysWithValues: ["GET", "POST", "PUT", "PATCH", "DELETE"].flatMap { method in
                [false, true].map { dryRun in
                    (
                        "\(method) \(dryRun)",
                        registry.makeCounter(
                            descriptor: MetricNameDescriptor(
                                namespace: "wherry", metricName: "kube_requests", unitName: "total",
                                helpText: "Requests sent to the Kubernetes API server, retries included"),
                            labels: [("method", method), ("dry_run", dryRun ? "true" : "false")])
                    )
                }
            })
        return { method, dryRun in counters["\(method) \(dryRun)"]?.increment() }
    }

    /// The Lease's own client; a client that cannot be built is a usage error, as for the reconcile client.
    static func renewalClient(for api: HTTPKubeAPI, timings: LeaseTimings) throws -> HTTPKubeAPI {
        do {
            return try LeaderElector.renewalClient(for: api, timings: timings)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
    }

    /// This process's Pod, from `$POD_NAMESPACE` and `$POD_NAME` (set by `wherry install`); `nil` out of a cluster.
    static func ownPod() -> (namespace: String, name: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let namespace = environment["POD_NAMESPACE"], let name = environment["POD_NAME"], !namespace.isEmpty,
            !name.isEmpty
        else { return nil }
        return (namespace, name)
    }

    /// `$POD_NAME` in a cluster, else the host name and process id.
    static func defaultIdentity() -> String {
        if let pod = ProcessInfo.processInfo.environment["POD_NAME"], !pod.isEmpty { return pod }
        return "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// `HOST:PORT` split, or `nil` when it is not one.
    static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
