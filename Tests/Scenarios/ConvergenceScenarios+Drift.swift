import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel

extension ConvergenceScenarios {
    /// A drift check puts back a Deployment deleted by hand and a value changed by hand, names them, and an
    /// unchanged service costs only LISTs (no request per object).
    public func driftIsCorrected() async throws {
        try await withHarness(
            services: service("a"),
            files: [
                "a/web.yaml": deployment("web"), "a/one.yaml": configMap("one"), "a/two.yaml": configMap("two"),
            ]
        ) { harness in
            let config = try harness.config()
            let service = try #require(config.service(named: "a"))
            let store = InMemoryStatusStore()
            let reconciler = harness.reconciler(store)
            guard case .applied = await reconciler.reconcile(service, in: config, trigger: .poll) else {
                Issue.record("the first reconcile did not apply")
                return
            }
            // An unchanged service: the drift check reads each collection once and writes nothing.
            counter.reset()
            guard case .applied(let clean, _) = await reconciler.reconcile(service, in: config, trigger: .drift) else {
                Issue.record("the drift check failed")
                return
            }
            #expect(clean.drifted.isEmpty, "\(clean.drifted)")
            let counts = counter.counts
            #expect(counts.writes == 0 && counts.dryRunApplies == 0 && counts.deletes == 0, "\(counts)")
            #expect(counts.gets + counts.lists <= 4, "\(counts)")

            // Someone deletes the Deployment and edits a ConfigMap.
            try await api.delete(path("deployments", "web", group: "apps"), options: DeleteOptions())
            try await waitUntilGone(path("deployments", "web", group: "apps"))
            let edited: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "one", "namespace": .string(namespace)],
                "data": ["k": "edited"],
            ]
            _ = try await api.apply(
                path("configmaps", "one"), object: edited, options: ApplyOptions(fieldManager: "kubectl", force: true))
            guard case .applied(let fixed, _) = await reconciler.reconcile(service, in: config, trigger: .drift) else {
                Issue.record("the drift check failed")
                return
            }
            #expect(
                Set(fixed.drifted.map(\.description))
                    == ["Deployment/\(namespace)/web", "ConfigMap/\(namespace)/one"], "\(fixed.drifted)")
            #expect(try await exists(path("deployments", "web", group: "apps")))
            #expect(try await api.get(path("configmaps", "one"))["data"]?["k"] == "1")
            let status = try #require(try await store.status(of: "a"))
            #expect(status.driftCorrections == 2)
            #expect(Set(status.lastDrift) == ["Deployment/\(namespace)/web", "ConfigMap/\(namespace)/one"])
        }
    }

    /// Replicas changed by another controller are left alone when the service ignores `/spec/replicas`, and put
    /// back when it does not.
    public func ignoredFieldsAreLeftAlone() async throws {
        let rule = "ignore_differences: [{kind: Deployment, json_pointers: [/spec/replicas]}]"
        try await withHarness(
            services: service("a", rule) + service("b"),
            files: ["a/web.yaml": deployment("web-a", replicas: 2), "b/web.yaml": deployment("web-b", replicas: 2)]
        ) { harness in
            let config = try harness.config()
            let reconciler = harness.reconciler(InMemoryStatusStore())
            for name in ["a", "b"] {
                _ = await reconciler.reconcile(try #require(config.service(named: name)), in: config, trigger: .poll)
            }
            for name in ["web-a", "web-b"] {
                #expect(try await api.get(path("deployments", name, group: "apps"))["spec"]?["replicas"] == 2)
                let scaled: JSONValue = [
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": ["replicas": 5],
                ]
                _ = try await api.apply(
                    path("deployments", name, group: "apps"), object: scaled,
                    options: ApplyOptions(fieldManager: "autoscaler", force: true))
            }
            for name in ["a", "b"] {
                _ = await reconciler.reconcile(try #require(config.service(named: name)), in: config, trigger: .drift)
            }
            #expect(try await api.get(path("deployments", "web-a", group: "apps"))["spec"]?["replicas"] == 5)
            #expect(try await api.get(path("deployments", "web-b", group: "apps"))["spec"]?["replicas"] == 2)
        }
    }

    /// With `wait: true`, a rollout past its progress deadline fails the sync at once, with the rollout's reason.
    public func waitFailsFastOnFailedRollout() async throws {
        try await withHarness(
            services: service("a", "wait: true, timeout: 120"),
            files: [
                "a/web.yaml": deployment("web", extraSpec: "progressDeadlineSeconds: 2"), "a/cm.yaml": configMap("c"),
            ]
        ) { harness in
            let started = ContinuousClock.now
            let failure = Self.failure(try await harness.sync()["a"])
            #expect(
                failure.contains("Deployment/\(namespace)/web: rollout failed: ProgressDeadlineExceeded"), "\(failure)")
            #expect(failure.contains("has timed out progressing"), "\(failure)")
            // Fails when the rollout says so, long before the 120 s timeout.
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }
}
