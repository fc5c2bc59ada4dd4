import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// `wherry run`'s loop against a real cluster: a push is applied.
@Suite(
    "E2E: the controller against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct ControllerE2ETests {
    private static func manifests(namespace: String, replicas: Int) -> [String: String?] {
        [
            "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "app/web.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: \(namespace)}
            spec:
              replicas: \(replicas)
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: registry.k8s.io/pause:3.9}]}
            """,
        ]
    }

    @Test("a push, announced by a webhook trigger, changes the Deployment in the cluster")
    func pushChangesDeployment() async throws {
        let quiet = E2ECluster.quiet
        let api = try E2ECluster.api()
        let namespace = "wherry-e2e-\(ApplyScenarios.uniqueSuffix())"
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        try await remote.commit(Self.manifests(namespace: namespace, replicas: 1))
        let text = """
            github_configs:
              r: {url: \(remote.fileURL)}
            services:
              - {name: web, github: r, k8s_yaml_dir: app}
            poll_interval: 3600
            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let syncer = ServiceSyncer(
            renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
            manager: ResourceManager(api: api, logger: quiet),
            inventories: InventoryKeeper(cluster: ClusterInventory(api: api, namespace: namespace + "-wherry")),
            logger: quiet)
        let loop = ReconcileLoop(
            config: config, reconciler: Reconciler(syncer: syncer, store: InMemoryStatusStore(), logger: quiet),
            logger: quiet)
        let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
        let deployment = "/apis/apps/v1/namespaces/\(namespace)/deployments/web"
        func replicas() async -> JSONValue? { try? await api.get(deployment)["spec"]?["replicas"] }
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var seen: JSONValue?
                for _ in 0..<150 where seen != 1 {
                    seen = await replicas()
                    if seen != 1 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(seen == 1)
                try await remote.commit(Self.manifests(namespace: namespace, replicas: 3))
                let started = ContinuousClock.now
                loop.trigger(service: "web", .webhook)
                for _ in 0..<150 where seen != 3 {
                    seen = await replicas()
                    if seen != 3 { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(seen == 3)
                #expect(ContinuousClock.now - started < .seconds(15))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } catch {
            for name in [namespace, namespace + "-wherry"] {
                try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
            }
            await api.shutdown()
            throw error
        }
        for name in [namespace, namespace + "-wherry"] {
            try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
        }
        await api.shutdown()
    }
}
