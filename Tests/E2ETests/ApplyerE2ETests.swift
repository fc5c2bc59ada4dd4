import Foundation
import Logging
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryScenarios

/// The kubectl applier against a real cluster: kubectl's own validation, server-side apply as field manager wherry.
@Suite(
    "E2E: the kubectl applier against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct ApplyerE2ETests {
    @Test("applies a Namespace and a ConfigMap; an unknown field is refused by the server's strict validation")
    func kubectl() async throws {
        let path = E2ECluster.kubeconfig
        let api = try E2ECluster.api()
        let namespace = "wherry-e2e-\(ApplyScenarios.uniqueSuffix())"
        do {
            let objects = [
                KubeObject(body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]),
                KubeObject(body: [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": "a", "namespace": .string(namespace)],
                    "data": ["k": "v"],
                ]),
            ]
            let applyer = KubectlApplyer(kubeconfig: path)
            try await applyer.install()
            _ = try await applyer.apply(objects, service: "web", dryRun: false)
            let stored = try await api.get("/api/v1/namespaces/\(namespace)/configmaps/a")
            #expect(stored["data"]?["k"] == "v")
            #expect(stored["metadata"]?["managedFields"]?.arrayValue?.contains { $0["manager"] == "wherry" } == true)
            let unknownField = KubeObject(body: [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "b", "namespace": .string(namespace)],
                "dataa": ["k": "v"],
            ])
            let error = try await #require(throws: ApplyerError.self) {
                try await applyer.apply([unknownField], service: "web", dryRun: false)
            }
            #expect(error.description.contains("dataa"), "\(error)")
        } catch {
            try? await api.delete("/api/v1/namespaces/\(namespace)", options: DeleteOptions())
            await api.shutdown()
            throw error
        }
        try await api.delete("/api/v1/namespaces/\(namespace)", options: DeleteOptions())
        await api.shutdown()
    }
}
