import Foundation
import Logging
import WherryKube

/// The real cluster the E2E suites run against: `WHERRY_E2E_KUBECONFIG`, and clients of it that log nothing.
enum E2ECluster {
    /// The kubeconfig named by `WHERRY_E2E_KUBECONFIG` (the suites run only when it is set).
    static var kubeconfig: String { ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] ?? "" }

    /// A logger that says nothing.
    static var quiet: Logger {
        var logger = Logger(label: "wherry.e2e")
        logger.logLevel = .critical
        return logger
    }

    /// A client of the cluster, as the user of `path` (the E2E kubeconfig unless another is given).
    static func api(kubeconfig path: String = kubeconfig) throws -> HTTPKubeAPI {
        try HTTPKubeAPI(connection: KubeConnection(try KubeConfigLoader().load(explicitPath: path)), logger: quiet)
    }

    /// Runs `body` with scenarios made on a fresh client of the cluster, then cleans up and closes the client, also
    /// when `body` throws.
    static func with<Scenarios>(
        _ make: (HTTPKubeAPI) -> Scenarios, cleanUp: (Scenarios) async -> Void,
        _ body: (Scenarios) async throws -> Void
    ) async throws {
        let api = try api()
        let scenarios = make(api)
        do {
            try await body(scenarios)
        } catch {
            await cleanUp(scenarios)
            await api.shutdown()
            throw error
        }
        await cleanUp(scenarios)
        await api.shutdown()
    }
}
