import Foundation
import Testing
import WherryController
import WherryKube
public import WherryModel

extension ConvergenceScenarios {
    /// The bundled example's overlay (`examples/overlays/staging`, built on `../base`) in this scenario's namespace:
    /// applied, then up to date with no request, then an edit to the base, outside the overlay's directory, is
    /// applied by the next poll.
    public func kustomizeBaseEditIsApplied() async throws {
        let files = try BundledExample.files(replacing: ["shop-staging": namespace])
        try await withHarness(
            services: "  - {name: staging, github: r, k8s_yaml_dir: examples/overlays/staging}\n", files: files
        ) { harness in
            let config = try harness.config()
            let service = config.services[0]
            let reconciler = harness.reconciler(InMemoryStatusStore())
            guard case .applied = await reconciler.reconcile(service, in: config, trigger: .poll) else {
                Issue.record("the overlay was not applied")
                return
            }
            let deployment = path("deployments", "staging-web", group: "apps")
            #expect(try await Self.image(api.get(deployment)) == "nginx:1.27")
            let before = counter.counts.total
            guard case .upToDate = await reconciler.reconcile(service, in: config, trigger: .poll) else {
                Issue.record("an unchanged overlay was applied again")
                return
            }
            #expect(counter.counts.total == before)

            let base = try #require(files["examples/overlays/base/deployment.yaml"] ?? nil)
            try await harness.remote.commit([
                "examples/overlays/base/deployment.yaml": base.replacing("nginx:1.27", with: "nginx:1.28")
            ])
            let outcome = await reconciler.reconcile(service, in: config, trigger: .poll)
            guard case .applied(let result, _) = outcome else {
                Issue.record("the edit of ../base was not applied: \(outcome)")
                return
            }
            let changes = result.changes.entries.map(\.description)
            #expect(changes.contains("Deployment/\(namespace)/staging-web configured"), "\(changes)")
            #expect(try await Self.image(api.get(deployment)) == "nginx:1.28")
        }
    }

    /// The image of a Deployment's first container.
    public static func image(_ deployment: JSONValue) -> String? {
        deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"]?.stringValue
    }
}
