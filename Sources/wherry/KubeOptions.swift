import ArgumentParser
import Foundation
import Logging
import Synchronization
import WherryController
import WherryKube
import WherryModel

/// How commands that talk to a cluster reach it.
struct KubeOptions: ParsableArguments {
    @Option(help: "Path of the kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use (default: its current-context).")
    var context: String?

    @Option(
        name: .customLong("namespace"),
        help: ArgumentHelp(
            "Wherry's own namespace: service inventories are kept there (created when missing).",
            discussion: "Default: $WHERRY_NAMESPACE, else \(ClusterInventory.defaultNamespace)."))
    var namespaceOption: String?

    /// `--namespace`, else `$WHERRY_NAMESPACE`, else `wherry-system`.
    var namespace: String {
        if let namespaceOption { return namespaceOption }
        if let fromEnvironment = ProcessInfo.processInfo.environment["WHERRY_NAMESPACE"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return ClusterInventory.defaultNamespace
    }

    @Option(help: "API requests in flight at once per apply stage.")
    var concurrency: Int = ApplySetOptions.defaultConcurrency

    @Option(
        help: """
            Client-side limit of API requests per second (0: none; the API server's priority and fairness paces \
            clients with 429 and Retry-After, which Wherry honours).
            """)
    var qps: Double = 0

    @Option(help: "API requests allowed in a burst when --qps is set.")
    var burst: Int = 200

    @Option(
        help: """
            Services applied at once (default 16; in run a service waiting for health holds no slot). Requests in \
            flight stay bounded by --concurrency however many services run, so many small services can fill the pipe.
            """)
    var maxConcurrentServices: Int?

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard burst > 0 else { throw ValidationError("--burst must be at least 1") }
        guard qps >= 0 else { throw ValidationError("--qps must be 0 (no limit) or more") }
        guard (maxConcurrentServices ?? 1) > 0 else {
            throw ValidationError("--max-concurrent-services must be at least 1")
        }
    }

    /// Where inventories are kept: the cluster, plus a copy in `store` when there is one.
    /// With `config`, they are that config's instance's (see ``WherryConfig/instance``).
    func inventories(
        _ api: any KubeAPI, config: WherryConfig? = nil, store: (any StatusStore)? = nil
    ) -> InventoryKeeper {
        InventoryKeeper(
            cluster: ClusterInventory(
                api: api, namespace: namespace, instance: config?.instance,
                sources: config.map(Self.sources) ?? [:]),
            store: store)
    }

    /// Each configured service's repository URL, without credentials (what its inventory records).
    static func sources(_ config: WherryConfig) -> [String: String] {
        var sources: [String: String] = [:]
        for service in config.services {
            if let url = config.repository(for: service)?.url { sources[service.name] = URLRedaction.redact(url) }
        }
        return sources
    }

    /// The external applier the config selects, installed (downloaded, checked); `nil` for the native one. An
    /// applier that cannot be installed is an error before anything is applied (exit 1).
    func installApplyer(_ config: WherryConfig, stateDirectory: String) async throws -> (any Applyer)? {
        guard
            let applyer = config.externalApplyer(
                kubeconfig: kubeconfig, context: context, stateDirectory: stateDirectory)
        else { return nil }
        if let unsupported = config.applyer.unsupported { Terminal.error("wherry: \(unsupported)") }
        do {
            try await applyer.install()
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.failure.code
        }
        return applyer
    }

    /// Loads the kubeconfig and opens the client; a kubeconfig problem is a usage error (exit 2).
    func connect(
        logger: Logger, onRequest: (@Sendable (String, Bool) -> Void)? = nil
    ) throws -> (HTTPKubeAPI, KubeClientConfig) {
        let config: KubeClientConfig
        do {
            config = try KubeConfigLoader().load(explicitPath: kubeconfig, context: context)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
        do {
            var options = KubeClientOptions(
                qps: qps, burst: burst, maxConnections: max(concurrency, 8), onRequest: onRequest)
            options.onSlowFirstContact = Self.slowContactNotice(server: config.server.absoluteString)
            let api = try HTTPKubeAPI(connection: KubeConnection(config), options: options, logger: logger)
            return (api, config)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
    }
}

extension KubeOptions {
    /// On a terminal: a line saying the first contact with the API server is still waiting (after 2 s), cleared
    /// when it ends; `nil` when stderr is not a terminal.
    static func slowContactNotice(server: String) -> (@Sendable (Bool) -> Void)? {
        let progress = Progress(total: 0)
        guard progress.enabled else { return nil }
        return { waiting in
            if waiting {
                progress.show("waiting for the API server at \(server) (gives up after 10 s)…")
            } else {
                progress.clear()
            }
        }
    }
}

/// A one-line progress indicator on stderr, only when stderr is a terminal.
final class Progress: Sendable {
    let enabled = isatty(STDERR_FILENO) == 1
    let total: Int
    private let done = Mutex(0)

    init(total: Int) { self.total = total }

    /// Counts one finished item and shows the count.
    func finished(_ name: String) {
        let count = done.withLock { count in
            count += 1
            return count
        }
        show("[\(count)/\(total)] \(name) done")
    }

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
