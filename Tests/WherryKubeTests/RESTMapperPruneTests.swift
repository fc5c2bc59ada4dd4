import Logging
import Testing
import WherryKube
import WherryModel
import WherryTesting

/// What the RESTMapper tells a prune: the kinds a Namespace's delete takes, whether discovery saw everything, and
/// where a kind lives at any served version.
@Suite("RESTMapper for prune")
struct RESTMapperPruneTests {
    private func withMapper(_ body: @Sendable (RESTMapper, FakeAPIServer) async throws -> Void) async throws {
        try await FakeAPIServer.withServer { server in
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let api = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), logger: logger)
            do {
                try await body(RESTMapper(api: api), server)
            } catch {
                await api.shutdown()
                throw error
            }
            await api.shutdown()
        }
    }

    @Test("what a Namespace holds: namespaced kinds that can be listed and deleted, not read-only aggregated ones")
    func deletableKinds() async throws {
        try await withMapper { mapper, server in
            server.serveReadOnlyResource(
                group: "metrics.k8s.io", version: "v1beta1", name: "pods", kind: "PodMetrics", namespaced: true)
            let kinds = try await mapper.namespacedResources().map(\.groupVersionKind.kind)
            #expect(kinds.contains("ConfigMap") && kinds.contains("Deployment"))
            #expect(!kinds.contains("PodMetrics"), "\(kinds)")
            #expect(!kinds.contains("Namespace"))
            // It is still a kind the mapper knows.
            let metrics = try await mapper.mapping(
                for: GroupVersionKind(apiVersion: "metrics.k8s.io/v1beta1", kind: "PodMetrics"))
            #expect(metrics.resource == "pods")
        }
    }

    @Test("while discovery of a group version fails, what a Namespace holds is not known: DiscoveryFailed names it")
    func unavailableGroupVersion() async throws {
        try await withMapper { mapper, server in
            _ = try await mapper.namespacedResources()
            try server.put([
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": ["name": "v1beta1.custom.metrics.k8s.io"],
                "spec": [
                    "group": "custom.metrics.k8s.io", "version": "v1beta1",
                    "service": ["name": "adapter", "namespace": "default"],
                ],
            ])
            // Read anew: a group version that went down since the last read is seen.
            do {
                _ = try await mapper.namespacedResources()
                Issue.record("namespacedResources answered while custom.metrics.k8s.io/v1beta1 is unavailable")
            } catch let error as KubeAPIError {
                #expect(error.reason == "DiscoveryFailed")
                #expect(error.isTransient)
                #expect(error.message.contains("custom.metrics.k8s.io/v1beta1"), "\(error.message)")
                #expect(error.message.contains("service unavailable"), "\(error.message)")
            }
            server.remove(
                group: "apiregistration.k8s.io", resource: "apiservices", name: "v1beta1.custom.metrics.k8s.io")
            #expect(try await !mapper.namespacedResources().isEmpty)
        }
    }

    @Test("a group version listed but no longer served (404: a CRD version just dropped) hides nothing")
    func vanishedGroupVersion() async throws {
        try await withMapper { mapper, server in
            server.failNext(1, status: 404, message: "404 page not found") { $0.path == "/apis/batch/v1" }
            let kinds = try await mapper.namespacedResources().map(\.groupVersionKind.kind)
            #expect(kinds.contains("ConfigMap") && !kinds.contains("Job"), "\(kinds)")
        }
    }

    @Test("a group and kind is found at any served version; NoKindMatch only when none is served")
    func groupKind() async throws {
        try await withMapper { mapper, _ in
            let deployments = try await mapper.mapping(group: "apps", kind: "Deployment")
            #expect(deployments.groupVersionKind.apiVersion == "apps/v1")
            #expect(deployments.resource == "deployments")
            do {
                _ = try await mapper.mapping(group: "apps", kind: "Gizmo")
                Issue.record("apps serves no Gizmo, yet the mapper found one")
            } catch let error as KubeAPIError {
                #expect(error.reason == "NoKindMatch")
            }
        }
    }
}
