import Foundation
import Logging
import Synchronization
import Testing
import WherryKube
import WherryScenarios

/// The apply scenarios against a real cluster. Set WHERRY_E2E_KUBECONFIG to a kubeconfig to run them; each test
/// uses its own namespace and removes it afterwards.
@Suite(
    "E2E: apply against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"),
    .serialized)
struct E2ETests {
    private func withScenarios(_ body: (ApplyScenarios) async throws -> Void) async throws {
        let path = ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"]!
        let config = try KubeConfigLoader().load(explicitPath: path)
        let api = try HTTPKubeAPI(connection: KubeConnection(config), logger: Logger(label: "wherry.e2e"))
        let scenarios = ApplyScenarios(api: api, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())")
        do {
            try await body(scenarios)
        } catch {
            try? await api.delete("/api/v1/namespaces/\(scenarios.namespace)", options: DeleteOptions())
            await api.shutdown()
            throw error
        }
        try? await api.delete("/api/v1/namespaces/\(scenarios.namespace)", options: DeleteOptions())
        await api.shutdown()
    }

    @Test("creates objects, then a second apply changes nothing")
    func createThenUnchanged() async throws { try await withScenarios { try await $0.createsThenLeavesUnchanged() } }

    @Test("corrects drift made by another field manager")
    func drift() async throws { try await withScenarios { try await $0.correctsDrift() } }

    @Test("services waiting for health share one LIST+WATCH per collection; a deleted object is not found")
    func healthObserver() async throws { try await withScenarios { try await $0.healthObserverSharesOneWatch() } }

    @Test("the controller backlog drains as the Deployment controller works; a rollout that never starts is none")
    func controllerBacklog() async throws { try await withScenarios { try await $0.controllerBacklogDrains() } }

    @Test("an invalid object blocks the whole set")
    func invalid() async throws { try await withScenarios { try await $0.invalidObjectBlocksTheSet() } }

    @Test("a CRD and its custom resource apply together")
    func crd() async throws { try await withScenarios { try await $0.appliesCRDAndCustomResourceTogether() } }

    @Test("deletes in reverse order")
    func delete() async throws { try await withScenarios { try await $0.deletesEverything() } }

    @Test("diff reports changed, new and unchanged objects")
    func diff() async throws { try await withScenarios { try await $0.diffShowsChanges() } }

    @Test("a second apply of 200 mixed objects right after the first writes nothing")
    func secondApplyWritesNothing() async throws {
        try await withScenarios { try await $0.secondApplyOf200ObjectsWritesNothing() }
    }

    @Test("a value of the wrong type (HTTP 500) is invalid and permanent")
    func typeError() async throws { try await withScenarios { try await $0.typeErrorIsInvalidAndPermanent() } }

    @Test("a dry run checks custom resources of an existing CRD against its schema")
    func dryRunCustomResource() async throws {
        try await withScenarios { try await $0.dryRunChecksCustomResourcesOfExistingCRDs() }
    }

    @Test("a failure after the first stage says what was applied")
    func failureAfterFirstStage() async throws {
        try await withScenarios { try await $0.failureAfterFirstStageSaysWhatWasApplied() }
    }

    @Test("rejected credentials are one cluster error naming the server")
    func rejectedCredentials() async throws {
        let path = ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"]!
        var connection = KubeConnection(try KubeConfigLoader().load(explicitPath: path))
        connection.clientCertificatePEM = nil
        connection.clientKeyPEM = nil
        connection.credentials = .bearer("not-a-valid-token")
        let rejected = try HTTPKubeAPI(connection: connection, logger: Logger(label: "wherry.e2e"))
        do {
            try await withScenarios { try await $0.rejectedCredentialsAreOneClusterError(rejected) }
        } catch {
            await rejected.shutdown()
            throw error
        }
        await rejected.shutdown()
    }

    @Test("RBAC that refuses one kind fails that object alone, naming verb, resource and namespace")
    func forbiddenKind() async throws {
        let path = ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"]!
        let base = KubeConnection(try KubeConfigLoader().load(explicitPath: path))
        let clients = Clients()
        do {
            try await withScenarios { scenarios in
                try await scenarios.forbiddenKindStaysWithItsObject { token in
                    var connection = base
                    connection.clientCertificatePEM = nil
                    connection.clientKeyPEM = nil
                    connection.credentials = .bearer(token)
                    let api = try HTTPKubeAPI(connection: connection, logger: Logger(label: "wherry.e2e"))
                    clients.add(api)
                    return api
                }
            }
        } catch {
            await clients.shutdown()
            throw error
        }
        await clients.shutdown()
    }
}

/// Clients a scenario opened, closed when it ends.
final class Clients: Sendable {
    private let opened = Mutex<[HTTPKubeAPI]>([])

    func add(_ api: HTTPKubeAPI) { opened.withLock { $0.append(api) } }

    func shutdown() async {
        for api in opened.withLock({ $0 }) { await api.shutdown() }
    }
}
