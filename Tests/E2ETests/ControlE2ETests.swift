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

/// Runtime suspension against a real API server: the annotation on the inventory ConfigMap, its survival across a
/// controller with an empty state store, and inventory writes that leave it alone.
@Suite(
    "E2E: suspend and resume against a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct ControlE2ETests {
    private static func configMap(_ namespace: String, _ value: String) -> [String: String?] {
        [
            "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(namespace)\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: \(namespace)}\n"
                + "data: {value: \"\(value)\"}\n",
        ]
    }

    @Test(
        "suspended: not applied, kept in the cluster for a new controller; resumed: applied; inventory writes keep it")
    func suspendSurvivesNewController() async throws {
        let quiet = E2ECluster.quiet
        let api = try E2ECluster.api()
        let namespace = "e2e-17a-\(ApplyScenarios.uniqueSuffix())"
        let own = namespace + "-wherry"
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        try await remote.commit(Self.configMap(namespace, "1"))
        let text = """
            github_configs:
              r: {url: \(remote.fileURL)}
            services:
              - {name: web, github: r, k8s_yaml_dir: app}
            poll_interval: 3600
            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let cluster = ClusterInventory(api: api, namespace: own)
        func makeLoop() -> ReconcileLoop {
            let syncer = ServiceSyncer(
                renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
                manager: ResourceManager(api: api, logger: quiet),
                inventories: InventoryKeeper(cluster: cluster), logger: quiet)
            // A new, empty store each time: a controller with a fresh state directory.
            return ReconcileLoop(
                config: config, reconciler: Reconciler(syncer: syncer, store: InMemoryStatusStore(), logger: quiet),
                logger: quiet)
        }
        func value() async -> JSONValue? {
            try? await api.get("/api/v1/namespaces/\(namespace)/configmaps/cm")["data"]?["value"]
        }
        func eventually(_ condition: () async -> Bool) async throws -> Bool {
            for _ in 0..<200 {
                if await condition() { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return await condition()
        }
        let inventoryPath = "/api/v1/namespaces/\(own)/configmaps/\(ClusterInventory.configMapName(service: "web"))"
        do {
            let first = makeLoop()
            let group = ServiceGroup(services: [first], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await eventually { await value() == "1" })
                #expect(try await first.suspend(service: "web"))
                let annotation = try await api.get(inventoryPath)["metadata"]?["annotations"]?[
                    ClusterInventory.suspendedAnnotation]
                #expect(annotation?.stringValue != nil)
                try await remote.commit(Self.configMap(namespace, "2"))
                first.trigger(service: "web", .webhook)
                try await Task.sleep(for: .seconds(3))
                #expect(await value() == "1")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // Another controller, with nothing on disk: the cluster says the service is suspended.
            let second = makeLoop()
            let secondGroup = ServiceGroup(services: [second], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await secondGroup.run() }
                #expect(try await eventually { second.isReady })
                #expect(second.suspension(of: "web")?.by == .api)
                second.trigger(service: "web", .webhook)
                try await Task.sleep(for: .seconds(3))
                #expect(await value() == "1")
                #expect(try await second.resume(service: "web"))
                #expect(try await eventually { await value() == "2" })
                let annotations = try await api.get(inventoryPath)["metadata"]?["annotations"]
                #expect(annotations?[ClusterInventory.suspendedAnnotation] == nil, "\(String(describing: annotations))")
                await secondGroup.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // A service never applied gets an empty inventory holding the mark; an inventory write (server-side apply
            // by the inventory's own field manager) keeps it, and it is no orphan.
            try await cluster.setSuspended(service: "later", since: "2026-01-01T00:00:00Z")
            let stored = try #require(try await cluster.load(service: "later"))
            #expect(stored.suspendedAt == "2026-01-01T00:00:00Z")
            #expect(stored.inventory.isEmpty)
            let saved = try await cluster.save(
                Inventory(), service: "later", revision: "abc", digest: "d", replacing: stored)
            #expect(saved.suspendedAt == "2026-01-01T00:00:00Z")
            #expect(try await InventoryKeeper(cluster: cluster).orphans(in: config)["later"] == nil)
            try await cluster.setSuspended(service: "later", since: nil)
            #expect(try await cluster.load(service: "later")?.suspendedAt == nil)
        } catch {
            for name in [namespace, own] {
                try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
            }
            await api.shutdown()
            throw error
        }
        for name in [namespace, own] { try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions()) }
        await api.shutdown()
    }
}
