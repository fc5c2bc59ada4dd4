import ArgumentParser
import Foundation
import Logging
import WherryKube

/// How commands that talk to a cluster reach it.
struct KubeOptions: ParsableArguments {
    @Option(help: "Path of the kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use (default: its current-context).")
    var context: String?

    @Option(help: "Objects written at once within an apply stage.")
    var concurrency: Int = 8

    @Option(help: "Client-side limit of API requests per second (0: no limit).")
    var qps: Double = 100

    @Option(help: "API requests allowed in a burst.")
    var burst: Int = 200

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard burst > 0 else { throw ValidationError("--burst must be at least 1") }
    }

    /// Loads the kubeconfig and opens the client; a kubeconfig problem is a usage error (exit 2).
    func connect(logger: Logger) throws -> (HTTPKubeAPI, KubeClientConfig) {
        let config: KubeClientConfig
        do {
            config = try KubeConfigLoader().load(explicitPath: kubeconfig, context: context)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
        do {
            let api = try HTTPKubeAPI(
                connection: KubeConnection(config),
                options: KubeClientOptions(qps: qps, burst: burst, maxConnections: max(concurrency * 2, 8)),
                logger: logger)
            return (api, config)
        } catch {
            Terminal.error("\(error)")
            throw ExitStatus.usage.code
        }
    }
}

/// A one-line progress indicator on stderr, only when stderr is a terminal.
struct Progress {
    let enabled = isatty(STDERR_FILENO) == 1

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
