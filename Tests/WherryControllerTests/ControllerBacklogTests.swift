import Foundation
import Logging
import ServiceLifecycle
import Testing
import WherryController
import WherryModel
import WherryTesting

/// Services that will wait for health hold their apply back while the cluster's controllers are behind.
@Suite("Controller backlog")
struct ControllerBacklogTests {
    static func deployment(_ name: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: default}
        spec:
          replicas: 0
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec: {containers: [{name: app, image: "pause:1"}]}

        """
    }

    @Test("with a backlog limit of one, each Deployment is written only after the controller saw the one before")
    func appliesFollowTheController() async throws {
        try await FakeAPIServer.withServer { server in
            server.controllerDelay = .milliseconds(700)
            let remote = try await GitRemoteFixture()
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { remote.remove(); cache.remove() }
            let names = ["a", "b", "c"]
            var files: [String: String] = [:]
            for name in names { files["\(name)/deploy.yaml"] = Self.deployment(name) }
            try await remote.commit(files)
            var text = "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
            for name in names {
                text += "  - {name: \(name), github: r, k8s_yaml_dir: \(name), wait: true, timeout: 30}\n"
            }
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let quiet = TestReconciler.quiet
            let api = try TestReconciler.client(server)
            let store = InMemoryStatusStore()
            var reconciler = TestReconciler.make(api: api, cache: cache, store: store)
            reconciler.controllerBacklogLimit = 1
            let loop = ReconcileLoop(config: config, reconciler: reconciler, maxConcurrentServices: 3, logger: quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let succeeded = try await TestReconciler.eventually(30) {
                    for name in names where try await store.status(of: name)?.lastResult != .succeeded { return false }
                    return true
                }
                #expect(succeeded)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await api.shutdown()
            // The writes (not the dry runs) of the three Deployments, in time order: each at least most of a
            // controller delay after the one before.
            let writes = server.requests.filter {
                $0.method == "PATCH" && $0.path.contains("/deployments/") && $0.isWrite
            }.map(\.timestamp).sorted()
            #expect(writes.count == 3)
            for (earlier, later) in zip(writes, writes.dropFirst()) {
                #expect(later.timeIntervalSince(earlier) > 0.5, "writes at \(writes)")
            }
        }
    }
}
