import Testing
import WherryController
import WherryKube
import WherryModel

extension ConvergenceScenarios {
    /// Removing a file deletes its object; the inventory follows; the next sync writes nothing.
    public func prunesWhatLeftGit() async throws {
        try await withHarness(
            services: service("a"),
            files: ["a/one.yaml": configMap("one"), "a/two.yaml": configMap("two"), "a/three.yaml": configMap("three")]
        ) { harness in
            let first = Self.changes(try await harness.sync()["a"])
            #expect(first.filter { $0.hasSuffix(" created") }.count == 4, "\(first)")
            #expect(try await inventoryText("a").components(separatedBy: "\n").filter { !$0.isEmpty }.count == 3)
            try await harness.remote.commit(["a/three.yaml": nil])
            let dry = Self.changes(try await harness.sync(dryRun: true)["a"])
            #expect(dry.contains("ConfigMap/\(namespace)/three deleted"), "\(dry)")
            #expect(try await exists(path("configmaps", "three")))
            let second = Self.changes(try await harness.sync()["a"])
            #expect(second.contains("ConfigMap/\(namespace)/three deleted"), "\(second)")
            #expect(try await !exists(path("configmaps", "three")))
            #expect(try await !inventoryText("a").contains("three"))
            counter.reset()
            let third = Self.changes(try await harness.sync()["a"])
            #expect(!third.contains { $0.contains("deleted") })
            #expect(counter.counts.writes == 0 && counter.counts.deletes == 0, "\(counter.counts)")
        }
    }

    /// An object moved to another service, one relabelled by hand, and one annotated `wherry.dev/prune: disabled`
    /// all stay when they leave a service's Git.
    public func keepsMovedRelabelledAndProtected() async throws {
        let keepers = ["a/k1.yaml": configMap("k1"), "a/k2.yaml": configMap("k2"), "a/k3.yaml": configMap("k3")]
        try await withHarness(
            services: service("a") + service("b"),
            files: keepers.merging([
                "a/move.yaml": configMap("move"), "a/hand.yaml": configMap("hand"),
                "a/protect.yaml": configMap("protect", annotations: "wherry.dev/prune: disabled"),
                "b/own.yaml": configMap("own"),
            ]) { $1 }
        ) { harness in
            _ = try await harness.sync()
            // Someone takes the object over by hand: another manager changes its service label.
            var hand = try await api.get(path("configmaps", "hand"))
            hand = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": "hand", "namespace": .string(namespace), "labels": ["wherry.dev/service": "someone-else"],
                ],
            ]
            _ = try await api.apply(
                path("configmaps", "hand"), object: hand, options: ApplyOptions(fieldManager: "kubectl", force: true))
            try await harness.remote.commit([
                "a/move.yaml": nil, "b/move.yaml": configMap("move", "2"), "a/hand.yaml": nil, "a/protect.yaml": nil,
            ])
            let outcomes = try await harness.sync()
            let a = Self.changes(outcomes["a"])
            #expect(a.contains("ConfigMap/\(namespace)/move kept (moved to service b)"), "\(a)")
            #expect(
                a.contains { $0.hasPrefix("ConfigMap/\(namespace)/hand kept (it now belongs to service someone-else") },
                "\(a)")
            #expect(a.contains("ConfigMap/\(namespace)/protect kept (wherry.dev/prune: disabled)"), "\(a)")
            #expect(!a.contains { $0.hasSuffix(" deleted") }, "\(a)")
            for name in ["move", "hand", "protect"] { #expect(try await exists(path("configmaps", name)), "\(name)") }
            let moved = try await api.get(path("configmaps", "move"))
            #expect(moved["metadata"]?["labels"]?["wherry.dev/service"] == "b")
            #expect(moved["data"]?["k"] == "2")
            // Kept objects that are no longer ours leave the inventory: they are not tried again.
            let inventory = try await inventoryText("a")
            #expect(!inventory.contains("/move") && !inventory.contains("/hand") && !inventory.contains("/protect"))
        }
    }

    /// A Namespace that still holds an object Wherry does not own is kept (and stays listed); once that object is
    /// gone, the next sync deletes it.
    public func keepsNamespaceWithForeignObjects() async throws {
        let extra = namespace + "-extra"
        let namespaceYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(extra)\n"
        let inside = configMap("inside").replacing("  name: inside\n", with: "  name: inside\n  namespace: \(extra)\n")
        try await withHarness(
            services: service("a"),
            files: [
                "a/ns.yaml": namespaceYAML, "a/inside.yaml": inside, "a/k1.yaml": configMap("k1"),
                "a/k2.yaml": configMap("k2"), "a/k3.yaml": configMap("k3"),
            ]
        ) { harness in
            _ = try await harness.sync()
            let foreign: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "users-own", "namespace": .string(extra)],
                "data": ["x": "1"],
            ]
            let foreignPath = "/api/v1/namespaces/\(extra)/configmaps/users-own"
            _ = try await api.apply(foreignPath, object: foreign, options: ApplyOptions(fieldManager: "kubectl"))
            try await harness.remote.commit(["a/ns.yaml": nil, "a/inside.yaml": nil])
            let second = Self.changes(try await harness.sync()["a"])
            #expect(second.contains("ConfigMap/\(extra)/inside deleted"), "\(second)")
            #expect(
                second.contains {
                    $0.hasPrefix(
                        "Namespace/\(extra) kept (deleting it would delete what stays in it: "
                            + "ConfigMap/\(extra)/users-own: not Wherry's")
                }, "\(second)")
            #expect(try await exists("/api/v1/namespaces/\(extra)"))
            #expect(try await inventoryText("a").contains("v1 Namespace \(extra)\n"))
            try await api.delete(foreignPath, options: DeleteOptions())
            try await waitUntilGone(foreignPath)
            let third = Self.changes(try await harness.sync()["a"])
            #expect(third.contains("Namespace/\(extra) deleted"), "\(third)")
            #expect(try await !inventoryText("a").contains("Namespace"))
        }
    }

    /// An empty render and a prune of more than half the inventory are refused, and nothing is deleted, unless
    /// allowed.
    public func refusesEmptyRenderAndMassPrune() async throws {
        let files = ["a/1.yaml": configMap("c1"), "a/2.yaml": configMap("c2"), "a/3.yaml": configMap("c3")]
        try await withHarness(services: service("a"), files: files.merging(["a/README.md": "docs\n"]) { $1 }) {
            harness in
            _ = try await harness.sync()
            try await harness.remote.commit(["a/1.yaml": nil, "a/2.yaml": nil, "a/3.yaml": nil])
            let empty = Self.failure(try await harness.sync()["a"])
            #expect(empty.contains("refused: the render of a holds no objects"), "\(empty)")
            try await harness.remote.commit(["a/1.yaml": configMap("c1")])
            let mass = Self.failure(try await harness.sync()["a"])
            #expect(mass.contains("refused: this sync would prune 2 of the 3 objects"), "\(mass)")
            #expect(mass.contains("--allow-mass-prune"), "\(mass)")
            for name in ["c1", "c2", "c3"] { #expect(try await exists(path("configmaps", name))) }
            let allowed = Self.changes(try await harness.sync(allowMassPrune: true)["a"])
            #expect(allowed.filter { $0.hasSuffix(" deleted") }.count == 2, "\(allowed)")
        }
    }

    func waitUntilGone(_ path: String) async throws {
        for _ in 0..<100 where try await exists(path) { try await Task.sleep(for: .milliseconds(100)) }
    }
}
