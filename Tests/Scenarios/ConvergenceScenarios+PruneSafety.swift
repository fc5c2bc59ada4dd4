import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel

/// Prune never takes with it what must stay: a Namespace or CustomResourceDefinition is kept while deleting it would
/// delete what stays, a Namespace is not pruned while discovery cannot see all it holds, and an object is found at
/// any version its kind is still served at.
extension ConvergenceScenarios {
    /// A custom resource whose stored apiVersion is no longer served (a CRD upgrade serves `v1` and stopped serving
    /// `v1alpha1`) is pruned at the version served now, not dropped from the inventory as gone.
    public func prunesObjectAtTheVersionServedNow() async throws {
        let group = "\(namespace).prune.wherry.test"
        try await withCRDCleanup("gizmos.\(group)") {
            try await withHarness(
                services: service("a"),
                files: [
                    "a/crd.yaml": gizmoCRD(group, versions: [("v1alpha1", true, true)]),
                    "a/g.yaml": gizmo("g", apiVersion: "\(group)/v1alpha1"), "a/k1.yaml": configMap("k1"),
                ]
            ) { harness in
                _ = Self.changes(try await harness.sync()["a"])
                let crPath = "/apis/\(group)/v1/namespaces/\(namespace)/gizmos/g"
                try await harness.remote.commit([
                    "a/crd.yaml": gizmoCRD(group, versions: [("v1alpha1", false, false), ("v1", true, true)]),
                    "a/g.yaml": nil,
                ])
                let changes = Self.changes(try await harness.sync(allowMassPrune: true)["a"])
                #expect(changes.contains("Gizmo/\(namespace)/g deleted"), "\(changes)")
                #expect(!changes.contains { $0.contains("no longer served") }, "\(changes)")
                try await waitUntilGone(crPath)
                #expect(try await !exists(crPath), "the custom resource was left in the cluster")
                #expect(try await !inventoryText("a").contains("Gizmo"))
            }
        }
    }

    /// A CustomResourceDefinition that leaves Git is kept while custom resources of its kind stay (a protected one,
    /// one Wherry does not own, in any namespace), since deleting it deletes them all; once they are gone, it is pruned.
    public func keepsCRDWhileItsCustomResourcesStay() async throws {
        let group = "\(namespace).keep.wherry.test"
        let crd = "gizmos.\(group)"
        let extra = namespace + "-extra"
        try await withCRDCleanup(crd) {
            try await withHarness(
                services: service("a"),
                files: [
                    "a/crd.yaml": gizmoCRD(group, versions: [("v1", true, true)]),
                    "a/keep.yaml": gizmo("keep", apiVersion: "\(group)/v1", annotations: "wherry.dev/prune: disabled"),
                    "a/gone.yaml": gizmo("gone", apiVersion: "\(group)/v1"), "a/k1.yaml": configMap("k1"),
                ]
            ) { harness in
                _ = Self.changes(try await harness.sync()["a"])
                let foreignPath = "/apis/\(group)/v1/namespaces/\(extra)/gizmos/foreign"
                let extraNamespace: JSONValue = [
                    "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(extra)],
                ]
                _ = try await api.apply(
                    "/api/v1/namespaces/\(extra)", object: extraNamespace,
                    options: ApplyOptions(fieldManager: "kubectl"))
                let foreign: JSONValue = [
                    "apiVersion": .string("\(group)/v1"), "kind": "Gizmo",
                    "metadata": ["name": "foreign", "namespace": .string(extra)], "spec": ["size": 1],
                ]
                _ = try await api.apply(foreignPath, object: foreign, options: ApplyOptions(fieldManager: "kubectl"))
                try await harness.remote.commit(["a/crd.yaml": nil, "a/keep.yaml": nil, "a/gone.yaml": nil])
                let changes = Self.changes(try await harness.sync(allowMassPrune: true)["a"])
                #expect(changes.contains("Gizmo/\(namespace)/gone deleted"), "\(changes)")
                #expect(changes.contains("Gizmo/\(namespace)/keep kept (wherry.dev/prune: disabled)"), "\(changes)")
                let kept = changes.first { $0.hasPrefix("CustomResourceDefinition/\(crd) kept (") } ?? ""
                #expect(kept.contains("deleting it would delete what stays of its kind: "), "\(changes)")
                #expect(kept.contains("Gizmo/\(extra)/foreign: not Wherry's"), "\(kept)")
                #expect(kept.contains("Gizmo/\(namespace)/keep: wherry.dev/prune: disabled"), "\(kept)")
                let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/\(crd)"
                let live = try await api.get(crdPath)
                #expect(live["metadata"]?["deletionTimestamp"] == nil, "the CustomResourceDefinition is being deleted")
                #expect(try await exists(foreignPath))
                #expect(try await exists("/apis/\(group)/v1/namespaces/\(namespace)/gizmos/keep"))
                #expect(
                    try await inventoryText("a").contains("apiextensions.k8s.io/v1 CustomResourceDefinition \(crd)\n"))
                // Both go (by hand): the next sync prunes the definition.
                for path in [foreignPath, "/apis/\(group)/v1/namespaces/\(namespace)/gizmos/keep"] {
                    try await api.delete(path, options: DeleteOptions())
                    try await waitUntilGone(path)
                }
                let later = Self.changes(try await harness.sync()["a"])
                #expect(later.contains("CustomResourceDefinition/\(crd) deleted"), "\(later)")
                #expect(try await !inventoryText("a").contains("CustomResourceDefinition"))
            }
        }
    }

    /// While discovery of a group version fails (an aggregated API whose server is missing), a Namespace that left
    /// Git is not pruned: what it holds of that API cannot be seen. The prune fails naming the group version, the
    /// Namespace stays in the inventory, and once discovery answers again it is pruned.
    public func namespacePruneWaitsForDiscovery() async throws {
        let extra = namespace + "-extra"
        let downGroup = "\(namespace).down.wherry.test"
        let apiServicePath = "/apis/apiregistration.k8s.io/v1/apiservices/v1.\(downGroup)"
        let namespaceYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(extra)\n"
        let inside = configMap("inside").replacing("  name: inside\n", with: "  name: inside\n  namespace: \(extra)\n")
        try await withHarness(
            services: service("a"),
            files: ["a/ns.yaml": namespaceYAML, "a/inside.yaml": inside, "a/k1.yaml": configMap("k1")]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            let apiService: JSONValue = [
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": ["name": .string("v1.\(downGroup)")],
                "spec": [
                    "group": .string(downGroup), "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10,
                    "insecureSkipTLSVerify": true,
                    "service": ["name": "not-there", "namespace": .string(namespace), "port": 443],
                ],
            ]
            _ = try await api.apply(apiServicePath, object: apiService, options: ApplyOptions(fieldManager: "kubectl"))
            do {
                try await waitUntilDiscoveryLists(downGroup, listed: true)
                try await harness.remote.commit(["a/ns.yaml": nil, "a/inside.yaml": nil])
                let failure = Self.failure(try await harness.sync(allowMassPrune: true)["a"])
                #expect(failure.contains("Namespace/\(extra)"), "\(failure)")
                #expect(failure.contains("\(downGroup)/v1"), "\(failure)")
                let live = try await api.get("/api/v1/namespaces/\(extra)")
                #expect(live["metadata"]?["deletionTimestamp"] == nil, "the namespace is being deleted")
                #expect(try await inventoryText("a").contains("v1 Namespace \(extra)\n"))
            } catch {
                try? await api.delete(apiServicePath, options: DeleteOptions())
                throw error
            }
            try await api.delete(apiServicePath, options: DeleteOptions())
            try await waitUntilDiscoveryLists(downGroup, listed: false)
            let later = Self.changes(try await harness.sync()["a"])
            #expect(later.contains("Namespace/\(extra) deleted"), "\(later)")
            #expect(try await !inventoryText("a").contains("Namespace"))
        }
    }

    /// With `prune_propagation: orphan`, the dependents of a pruned object stay, so the Namespace that holds them is
    /// kept (even before the garbage collector has removed their ownerReferences); once they are gone, it is pruned.
    public func orphanPropagationKeepsTheNamespaceOfDependents() async throws {
        let extra = namespace + "-extra"
        let namespaceYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(extra)\n"
        let owner = configMap("owner").replacing("  name: owner\n", with: "  name: owner\n  namespace: \(extra)\n")
        try await withHarness(
            services: service("a", "prune_propagation: orphan"),
            files: ["a/ns.yaml": namespaceYAML, "a/owner.yaml": owner, "a/k1.yaml": configMap("k1")]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            let ownerLive = try await api.get("/api/v1/namespaces/\(extra)/configmaps/owner")
            let uid = try #require(ownerLive["metadata"]?["uid"])
            let dependentPath = "/api/v1/namespaces/\(extra)/configmaps/dependent"
            let dependent: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": "dependent", "namespace": .string(extra),
                    "ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid]],
                ],
                "data": ["x": "1"],
            ]
            _ = try await api.apply(dependentPath, object: dependent, options: ApplyOptions(fieldManager: "kubectl"))
            try await harness.remote.commit(["a/ns.yaml": nil, "a/owner.yaml": nil])
            let changes = Self.changes(try await harness.sync(allowMassPrune: true)["a"])
            #expect(changes.contains("ConfigMap/\(extra)/owner deleted"), "\(changes)")
            #expect(
                changes.contains {
                    $0.hasPrefix(
                        "Namespace/\(extra) kept (deleting it would delete what stays in it: "
                            + "ConfigMap/\(extra)/dependent: ")
                }, "\(changes)")
            let live = try await api.get("/api/v1/namespaces/\(extra)")
            #expect(live["metadata"]?["deletionTimestamp"] == nil, "the namespace is being deleted")
            #expect(try await exists(dependentPath))
            #expect(try await inventoryText("a").contains("v1 Namespace \(extra)\n"))
            try await api.delete(dependentPath, options: DeleteOptions())
            try await waitUntilGone(dependentPath)
            let later = Self.changes(try await harness.sync()["a"])
            #expect(later.contains("Namespace/\(extra) deleted"), "\(later)")
        }
    }

    /// Runs `body`, then deletes the cluster-scoped CustomResourceDefinition `name` whatever happened.
    func withCRDCleanup(_ name: String, _ body: () async throws -> Void) async throws {
        let path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/\(name)"
        do {
            try await body()
        } catch {
            try? await api.delete(path, options: DeleteOptions())
            throw error
        }
        try? await api.delete(path, options: DeleteOptions())
    }

    /// Waits until `/apis` lists `group` (or no longer does): the aggregator registers an APIService moments later.
    func waitUntilDiscoveryLists(_ group: String, listed: Bool) async throws {
        for _ in 0..<100 {
            let groups = try await api.get("/apis")["groups"]?.arrayValue ?? []
            if groups.contains(where: { $0["name"]?.stringValue == group }) == listed { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A namespaced CustomResourceDefinition of kind `Gizmo` in `group` with the versions given as
    /// `(name, served, storage)`.
    func gizmoCRD(_ group: String, versions: [(String, Bool, Bool)]) -> String {
        let schema = "    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
        return """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: gizmos.\(group)
            spec:
              group: \(group)
              scope: Namespaced
              names: {plural: gizmos, singular: gizmo, kind: Gizmo, listKind: GizmoList}
              versions:

            """
                + versions.map { name, served, storage in
                    "  - name: \(name)\n    served: \(served)\n    storage: \(storage)\n" + schema
                }.joined()
    }

    /// A `Gizmo` in the service's namespace.
    func gizmo(_ name: String, apiVersion: String, annotations: String = "") -> String {
        "apiVersion: \(apiVersion)\nkind: Gizmo\nmetadata:\n  name: \(name)\n"
            + (annotations.isEmpty ? "" : "  annotations: {\(annotations)}\n") + "spec:\n  size: 1\n"
    }
}
