import Testing
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// Write-only and rewritten fields, atomic maps, ignored fields and safe deletes, against FakeAPIServer (the same
/// scenarios run against a real API server in E2ETests).
@Suite("Fields the server rewrites, ignored fields and safe deletes, against FakeAPIServer")
struct ApplyFieldsTests {
    @Test("a Secret value changed in stringData is diffed, dry-run and applied as a change")
    func stringData() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.changedStringDataIsApplied() }
    }

    @Test("a Secret an earlier Wherry applied as stringData is taken over")
    func earlierStringData() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.stringDataOfAnEarlierApplyIsTakenOver() }
    }

    @Test("a change of the deprecated serviceAccount is applied as serviceAccountName")
    func serviceAccount() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.changedDeprecatedServiceAccountIsApplied() }
    }

    @Test("a change in Git is applied for every kind the fake serves")
    func everyKind() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.aChangeInGitIsAppliedForEveryKind() }
    }

    @Test("a key added by hand to a Service selector is drift, found by a drift check")
    func atomicSelector() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.handEditedSelectorIsDrift() }
    }

    @Test("an ignored field is created with Git's value and never owned afterwards")
    func ignoredField() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.ignoredFieldIsNeverOwned() }
    }

    @Test("a field owned before it was ignored keeps its value")
    func ignoredLater() async throws {
        try await withFakeCluster { scenarios, _, _ in
            try await scenarios.fieldOwnedBeforeItWasIgnoredKeepsItsValue()
        }
    }

    @Test("delete leaves an object the service does not own, and deletes by uid")
    func safeDelete() async throws {
        try await withFakeCluster { scenarios, server, _ in
            try await scenarios.deleteLeavesWhatTheServiceDoesNotOwn()
            let deletes = server.requests.filter { $0.method == "DELETE" }
            #expect(deletes.count == 1)
            #expect(deletes.allSatisfy { String(decoding: $0.body, as: UTF8.self).contains("\"uid\"") })
        }
    }
}
