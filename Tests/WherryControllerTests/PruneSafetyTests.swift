import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// Prune never takes with it what must stay (Namespaces and CustomResourceDefinitions that would delete what stays,
/// discovery that cannot see everything, objects at another served version), against FakeAPIServer; the shared
/// scenarios run in E2E too.
@Suite("Prune safety against FakeAPIServer")
struct PruneSafetyTests {
    /// Runs `body` with a client of a fresh FakeAPIServer (see ``TestReconciler/withClient(_:)``).
    private func withClient(_ body: @Sendable (HTTPKubeAPI, FakeAPIServer) async throws -> Void) async throws {
        try await TestReconciler.withClient(body)
    }

    private func withScenarios(
        _ body: @Sendable (ConvergenceScenarios, FakeAPIServer) async throws -> Void
    ) async throws {
        try await withClient { api, server in
            try await body(ConvergenceScenarios(api: api, namespace: "safe-\(ApplyScenarios.uniqueSuffix())"), server)
        }
    }

    /// The inventory entry of a Namespace of service `a`, created with Wherry's labels.
    private func namespaceOfA(_ name: String, on server: FakeAPIServer) throws -> InventoryEntry {
        try server.put([
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": [
                "name": .string(name), "labels": [WherryLabels.managedBy: "wherry", WherryLabels.service: "a"],
            ],
        ])
        return InventoryEntry(ref: ObjectRef(group: "", kind: "Namespace", namespace: "", name: name), apiVersion: "v1")
    }

    @Test("a custom resource is pruned at the version its CRD serves now, not dropped as gone")
    func servedVersion() async throws {
        try await withScenarios { s, _ in try await s.prunesObjectAtTheVersionServedNow() }
    }

    @Test("a CustomResourceDefinition is kept while custom resources of its kind stay, and pruned after")
    func crdWithStayingResources() async throws {
        try await withScenarios { s, _ in try await s.keepsCRDWhileItsCustomResourcesStay() }
    }

    @Test("a Namespace is not pruned while discovery of an aggregated API fails; it is once it answers")
    func unavailableDiscovery() async throws {
        try await withScenarios { s, _ in try await s.namespacePruneWaitsForDiscovery() }
    }

    @Test("with orphan propagation, the dependents of a pruned object keep their Namespace")
    func orphanedDependents() async throws {
        try await withScenarios { s, _ in try await s.orphanPropagationKeepsTheNamespaceOfDependents() }
    }

    @Test("read-only aggregated kinds (PodMetrics) listed in a Namespace do not keep it: they are not stored there")
    func readOnlyKinds() async throws {
        try await withClient { api, server in
            server.serveReadOnlyResource(
                group: "metrics.k8s.io", version: "v1beta1", name: "pods", kind: "PodMetrics", namespaced: true)
            let entry = try namespaceOfA("metrics-ns", on: server)
            try server.put([
                "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
                "metadata": ["name": "web-1", "namespace": "metrics-ns"], "containers": [],
            ])
            let manager = ResourceManager(api: api, logger: TestReconciler.quiet)
            let result = await manager.prune([entry], options: PruneOptions(service: "a"))
            #expect(result.changes.entries.map(\.description) == ["Namespace/metrics-ns deleted"])
            #expect(result.failures.isEmpty && result.retained.isEmpty)
            #expect(server.object(resource: "namespaces", name: "metrics-ns") == nil)
        }
    }

    @Test("an object at a version its CRD stopped serving since discovery was read is found, not taken as gone")
    func staleDiscovery() async throws {
        try await withClient { api, server in
            let group = "stale.wherry.test"
            func crd(_ versions: [(String, Bool, Bool)]) -> JSONValue {
                [
                    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": ["name": .string("gizmos.\(group)")],
                    "spec": [
                        "group": .string(group), "scope": "Namespaced",
                        "names": ["plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList"],
                        "versions": .array(
                            versions.map { name, served, storage in
                                [
                                    "name": .string(name), "served": .bool(served), "storage": .bool(storage),
                                    "schema": [
                                        "openAPIV3Schema": [
                                            "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                        ]
                                    ],
                                ]
                            }),
                    ],
                ]
            }
            try server.put(crd([("v1alpha1", true, true)]))
            try server.put([
                "apiVersion": .string("\(group)/v1alpha1"), "kind": "Gizmo",
                "metadata": [
                    "name": "g", "namespace": "default",
                    "labels": [WherryLabels.managedBy: "wherry", WherryLabels.service: "a"],
                ],
            ])
            let manager = ResourceManager(api: api, logger: TestReconciler.quiet)
            // Discovery is read while v1alpha1 is served; then the CRD is upgraded behind the manager's back.
            _ = try await manager.mapper.mapping(for: GroupVersionKind(apiVersion: "\(group)/v1alpha1", kind: "Gizmo"))
            try server.put(crd([("v1alpha1", false, false), ("v1", true, true)]))
            let entry = InventoryEntry(
                ref: ObjectRef(group: group, kind: "Gizmo", namespace: "default", name: "g"),
                apiVersion: "\(group)/v1alpha1")
            let result = await manager.prune([entry], options: PruneOptions(service: "a"))
            #expect(result.changes.entries.map(\.description) == ["Gizmo/default/g deleted"])
            #expect(server.object(group: group, resource: "gizmos", namespace: "default", name: "g") == nil)
        }
    }
}
