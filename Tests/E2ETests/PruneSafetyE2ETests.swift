import Foundation
import Testing
import WherryKube
import WherryScenarios

/// The prune safety scenarios against a real cluster: the same as the FakeAPIServer tests. Set WHERRY_E2E_KUBECONFIG
/// to run them; each uses its own namespaces and CustomResourceDefinitions and removes them afterwards. Serialized:
/// one of them makes an aggregated API unavailable for a moment, which holds back every Namespace prune meanwhile.
@Suite(
    "E2E: prune safety against a real cluster", .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct PruneSafetyE2ETests {
    private func withScenarios(_ body: (ConvergenceScenarios) async throws -> Void) async throws {
        try await E2ECluster.with(
            { ConvergenceScenarios(api: $0, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())") },
            cleanUp: { await $0.cleanUp() }, body)
    }

    @Test("a custom resource is pruned at the version its CRD serves now, not dropped as gone")
    func servedVersion() async throws {
        try await withScenarios { try await $0.prunesObjectAtTheVersionServedNow() }
    }

    @Test("a CustomResourceDefinition is kept while custom resources of its kind stay, and pruned after")
    func crdWithStayingResources() async throws {
        try await withScenarios { try await $0.keepsCRDWhileItsCustomResourcesStay() }
    }

    @Test("a Namespace is not pruned while discovery of an aggregated API fails; it is once it answers")
    func unavailableDiscovery() async throws {
        try await withScenarios { try await $0.namespacePruneWaitsForDiscovery() }
    }

    @Test("with orphan propagation, the dependents of a pruned object keep their Namespace")
    func orphanedDependents() async throws {
        try await withScenarios { try await $0.orphanPropagationKeepsTheNamespaceOfDependents() }
    }
}
