import Foundation
import Testing
import WherryKube
import WherryScenarios

/// Write-only and rewritten fields, atomic maps, ignored fields and safe deletes against a real API server. Set
/// WHERRY_E2E_KUBECONFIG to a kubeconfig to run them; each test uses its own namespace and removes it afterwards.
@Suite(
    "E2E: fields the server rewrites, ignored fields and safe deletes",
    .enabled(if: !E2ECluster.kubeconfig.isEmpty, "WHERRY_E2E_KUBECONFIG is not set"))
struct ApplyFieldsE2ETests {
    private func withScenarios(_ body: (ApplyScenarios) async throws -> Void) async throws {
        let api = try E2ECluster.api()
        let scenarios = ApplyScenarios(api: api, namespace: "wherry-e2e-\(ApplyScenarios.uniqueSuffix())")
        let namespace = "/api/v1/namespaces/\(scenarios.namespace)"
        do {
            try await body(scenarios)
        } catch {
            try? await api.delete(namespace, options: DeleteOptions())
            await api.shutdown()
            throw error
        }
        try? await api.delete(namespace, options: DeleteOptions())
        await api.shutdown()
    }

    @Test("a Secret value changed in stringData is diffed, dry-run and applied as a change")
    func stringData() async throws { try await withScenarios { try await $0.changedStringDataIsApplied() } }

    @Test("a Secret an earlier Wherry applied as stringData is taken over")
    func earlierStringData() async throws {
        try await withScenarios { try await $0.stringDataOfAnEarlierApplyIsTakenOver() }
    }

    @Test("a change of the deprecated serviceAccount is applied as serviceAccountName")
    func serviceAccount() async throws {
        try await withScenarios { try await $0.changedDeprecatedServiceAccountIsApplied() }
    }

    @Test("a change in Git is applied for every kind the fake serves")
    func everyKind() async throws { try await withScenarios { try await $0.aChangeInGitIsAppliedForEveryKind() } }

    @Test("a key added by hand to a Service selector is drift, found by a drift check")
    func atomicSelector() async throws { try await withScenarios { try await $0.handEditedSelectorIsDrift() } }

    @Test("an ignored field is created with Git's value and never owned afterwards")
    func ignoredField() async throws { try await withScenarios { try await $0.ignoredFieldIsNeverOwned() } }

    @Test("a field owned before it was ignored keeps its value")
    func ignoredLater() async throws {
        try await withScenarios { try await $0.fieldOwnedBeforeItWasIgnoredKeepsItsValue() }
    }

    @Test("delete leaves an object the service does not own")
    func safeDelete() async throws { try await withScenarios { try await $0.deleteLeavesWhatTheServiceDoesNotOwn() } }
}
