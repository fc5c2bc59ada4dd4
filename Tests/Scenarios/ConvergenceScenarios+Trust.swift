import Testing
import WherryController
import WherryKube
import WherryModel

extension ConvergenceScenarios {
    /// A Namespace that leaves Git with a protected object in it is kept, with the reason, and so is the object; once
    /// the object goes, the Namespace is pruned too.
    public func keepsNamespaceHoldingProtectedObject() async throws {
        let extra = namespace + "-extra"
        let namespaceYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(extra)\n"
        func inside(_ name: String, annotations: String = "") -> String {
            configMap(name, annotations: annotations).replacing(
                "  name: \(name)\n", with: "  name: \(name)\n  namespace: \(extra)\n")
        }
        try await withHarness(
            services: service("a"),
            files: [
                "a/ns.yaml": namespaceYAML, "a/keep.yaml": inside("keepme", annotations: "wherry.dev/prune: disabled"),
                "a/other.yaml": inside("other"), "a/stay.yaml": configMap("stay"),
            ]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            try await harness.remote.commit(["a/ns.yaml": nil, "a/keep.yaml": nil, "a/other.yaml": nil])
            let changes = Self.changes(try await harness.sync(allowMassPrune: true)["a"])
            #expect(changes.contains("ConfigMap/\(extra)/keepme kept (wherry.dev/prune: disabled)"), "\(changes)")
            #expect(changes.contains("ConfigMap/\(extra)/other deleted"), "\(changes)")
            #expect(
                changes.contains(
                    "Namespace/\(extra) kept (deleting it would delete what stays in it: "
                        + "ConfigMap/\(extra)/keepme: wherry.dev/prune: disabled)"), "\(changes)")
            #expect(!changes.contains("Namespace/\(extra) deleted"), "\(changes)")
            let live = try await api.get("/api/v1/namespaces/\(extra)")
            #expect(live["metadata"]?["deletionTimestamp"] == nil, "the namespace is being deleted")
            #expect(try await exists("/api/v1/namespaces/\(extra)/configmaps/keepme"))
            #expect(try await inventoryText("a").contains("v1 Namespace \(extra)"))
            // The protected object goes (by hand): the next sync prunes the Namespace.
            try await api.delete("/api/v1/namespaces/\(extra)/configmaps/keepme", options: DeleteOptions())
            let later = Self.changes(try await harness.sync()["a"])
            #expect(later.contains("Namespace/\(extra) deleted"), "\(later)")
        }
    }

    /// An apply that fails half-way (the first stage written, then an invalid object) leaves what it wrote in the
    /// inventory, so a later commit that drops it prunes it.
    public func recordsIntentBeforeWriting() async throws {
        let extra = namespace + "-extra"
        let namespaceYAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(extra)\n"
        let invalid = configMap("x").replacing("  name: x\n", with: "  name: Not_Valid\n  namespace: \(extra)\n")
        try await withHarness(
            services: service("a"),
            files: ["a/keep1.yaml": configMap("keep1"), "a/keep2.yaml": configMap("keep2")]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            try await harness.remote.commit(["a/ns.yaml": namespaceYAML, "a/bad.yaml": invalid])
            let failure = Self.failure(try await harness.sync()["a"])
            #expect(failure.contains("only the first stage was applied (Namespace/\(extra))"), "\(failure)")
            #expect(try await exists("/api/v1/namespaces/\(extra)"))
            #expect(try await inventoryText("a").contains("v1 Namespace \(extra)"))
            // Git drops both: the Namespace written by the failed attempt is pruned.
            try await harness.remote.commit(["a/ns.yaml": nil, "a/bad.yaml": nil])
            let changes = Self.changes(try await harness.sync()["a"])
            #expect(changes.contains("Namespace/\(extra) deleted"), "\(changes)")
            #expect(!(try await inventoryText("a").contains(extra)))
        }
    }

    /// `wherry prune --service OLD`'s path: objects another configured service's Git holds now are kept for it.
    public func pruneOfOldServiceKeepsWhatAnotherServiceHolds() async throws {
        try await withHarness(
            services: service("a"), files: ["a/moved.yaml": configMap("moved"), "a/gone.yaml": configMap("gone")]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            // Service a is renamed b; b's directory holds one of the objects, not yet synced.
            try await harness.remote.commit(["b/moved.yaml": configMap("moved")])
            let renamed = Harness(
                remote: harness.remote, cache: harness.cache, syncer: harness.syncer, servicesYAML: service("b"))
            let config = try renamed.config()
            let stored = try await harness.syncer.inventories.load(service: "a")
            let result = await harness.syncer.prune(
                stored.inventory.entries, service: "a", propagation: .background, dryRun: false,
                claims: ServiceClaims(config: config, syncer: harness.syncer))
            let changes = result.changes.entries.map(\.description)
            #expect(changes.contains("ConfigMap/\(namespace)/moved kept (moved to service b)"), "\(changes)")
            #expect(changes.contains("ConfigMap/\(namespace)/gone deleted"), "\(changes)")
            #expect(try await exists(path("configmaps", "moved")))
            #expect(try await !exists(path("configmaps", "gone")))
        }
    }

    /// A replica whose own record says the render was applied does not skip it when the cluster's record says
    /// another one was applied since (another leader applied a newer commit, then Git went back).
    public func rollbackIsAppliedAgainstTheClustersRecord() async throws {
        try await withHarness(services: service("a"), files: ["a/cm.yaml": configMap("cm", "one")]) { harness in
            let config = try harness.config()
            let storeA = InMemoryStatusStore()
            // Replica A applies T1.
            let first = await harness.reconciler(storeA).reconcile(
                try #require(config.service(named: "a")), in: config, trigger: .poll)
            guard case .applied = first else {
                Issue.record("the first apply failed: \(first)")
                return
            }
            // Replica B (its own disk) applies T2.
            try await harness.remote.commit(["a/cm.yaml": configMap("cm", "two")])
            let replicaB = Harness(
                remote: harness.remote, cache: harness.cache,
                syncer: ServiceSyncer(
                    renderer: harness.syncer.renderer, manager: harness.syncer.manager, concurrency: 8,
                    inventories: InventoryKeeper(
                        cluster: harness.syncer.inventories.cluster, store: InMemoryStatusStore()),
                    logger: Self.quiet),
                servicesYAML: harness.servicesYAML)
            let second = await replicaB.reconciler(InMemoryStatusStore()).reconcile(
                try #require(config.service(named: "a")), in: config, trigger: .poll)
            guard case .applied = second else {
                Issue.record("the second apply failed: \(second)")
                return
            }
            #expect(try await api.get(path("configmaps", "cm"))["data"]?["k"] == "two")
            // Git goes back to T1; A leads again (a new term: it reads the cluster's records again).
            try await harness.remote.commit(["a/cm.yaml": configMap("cm", "one")])
            harness.syncer.inventories.forgetRecorded()
            let third = await harness.reconciler(storeA).reconcile(
                try #require(config.service(named: "a")), in: config, trigger: .poll)
            guard case .applied = third else {
                Issue.record("the rollback was not applied: \(third)")
                return
            }
            #expect(try await api.get(path("configmaps", "cm"))["data"]?["k"] == "one")
            // And now it is up to date, without a request.
            counter.reset()
            let fourth = await harness.reconciler(storeA).reconcile(
                try #require(config.service(named: "a")), in: config, trigger: .poll)
            guard case .upToDate = fourth else {
                Issue.record("an unchanged service was applied again: \(fourth)")
                return
            }
            #expect(counter.counts.total == 0, "\(counter.counts)")
        }
    }
}

extension ConvergenceScenarios {
    /// A write refused after other objects were written (`refuse(method, path)` makes the server refuse that one
    /// object's write): what was written is in the inventory, and pruned once Git drops it.
    public func recordsIntentWhenAWriteFails(
        refuse: @Sendable (_ method: String, _ path: String) -> Void
    ) async throws {
        try await withHarness(
            services: service("a"), files: ["a/keep1.yaml": configMap("keep1"), "a/keep2.yaml": configMap("keep2")]
        ) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            try await harness.remote.commit(["a/new.yaml": configMap("new"), "a/dep.yaml": deployment("dep")])
            refuse("PATCH", path("deployments", "dep", group: "apps"))
            let failure = Self.failure(try await harness.sync()["a"])
            #expect(failure.contains("Deployment/\(namespace)/dep"), "\(failure)")
            #expect(try await exists(path("configmaps", "new")), "the ConfigMap was not written before the failure")
            #expect(try await inventoryText("a").contains("v1 ConfigMap \(namespace)/new"))
            try await harness.remote.commit(["a/new.yaml": nil, "a/dep.yaml": nil])
            let changes = Self.changes(try await harness.sync()["a"])
            #expect(changes.contains("ConfigMap/\(namespace)/new deleted"), "\(changes)")
            #expect(try await !exists(path("configmaps", "new")))
        }
    }
}

extension ConvergenceScenarios {
    /// Inventory writes are conditional on the version read: a writer holding an old version is refused (and so is
    /// creating one that exists), so a second writer's entries are never lost.
    public func inventoryWritesAreConditional() async throws {
        let cluster = ClusterInventory(api: api, namespace: inventoryNamespace)
        let one = Inventory([InventoryEntry(line: "v1 ConfigMap \(namespace)/one")!])
        let first = try await cluster.save(one, service: "a", revision: "r1", replacing: nil)
        let two = one.merging(Inventory([InventoryEntry(line: "v1 ConfigMap \(namespace)/two")!]))
        _ = try await cluster.save(two, service: "a", revision: "r2", digest: "d2", replacing: first)
        await #expect(throws: KubeAPIError.self) {
            try await cluster.save(one, service: "a", revision: "r3", replacing: first)
        }
        await #expect(throws: KubeAPIError.self) {
            try await cluster.save(one, service: "a", revision: "r3", replacing: nil)
        }
        let stored = try #require(try await cluster.load(service: "a"))
        #expect(stored.inventory == two && stored.revision == "r2" && stored.digest == "d2")
        // A ConfigMap created with a digest (by POST, another field manager's operation) still loses it to an
        // intent write: a stale digest never outlives an apply under way.
        let created = try await cluster.save(one, service: "b", revision: "r1", digest: "d1", replacing: nil)
        #expect(created.digest == "d1")
        _ = try await cluster.save(two, service: "b", revision: "r2", digest: nil, replacing: created)
        #expect(try await cluster.load(service: "b")?.digest == nil)
    }

    /// While some configured service cannot be rendered, what left another service's Git is not pruned (that
    /// service might hold it now), and the sync says so and fails, so it is tried again; once the render works,
    /// the prune goes ahead.
    public func deferredPruneIsRetried() async throws {
        try await withHarness(
            services: service("a") + service("b"),
            files: [
                "a/one.yaml": configMap("one"), "a/two.yaml": configMap("two"), "a/three.yaml": configMap("three"),
                "b/own.yaml": configMap("own"),
            ]
        ) { harness in
            _ = try await harness.sync()
            try await harness.remote.commit(["a/three.yaml": nil, "b/own.yaml": "kind: [unclosed\n"])
            let failure = Self.failure(try await harness.sync()["a"])
            #expect(failure.contains("not pruned yet: service b could not be rendered"), "\(failure)")
            #expect(try await exists(path("configmaps", "three")))
            #expect(try await inventoryText("a").contains("/three"))
            try await harness.remote.commit(["b/own.yaml": configMap("own")])
            let changes = Self.changes(try await harness.sync()["a"])
            #expect(changes.contains("ConfigMap/\(namespace)/three deleted"), "\(changes)")
        }
    }
}

extension ConvergenceScenarios {
    /// A commit the dry run refuses records its new objects as pending; reverting it does not trip the mass-prune
    /// valve over objects that were never written.
    public func revertOfRefusedCommitIsNotAMassPrune() async throws {
        let keepers = ["a/k1.yaml": configMap("k1"), "a/k2.yaml": configMap("k2"), "a/k3.yaml": configMap("k3")]
        try await withHarness(services: service("a"), files: keepers) { harness in
            _ = Self.changes(try await harness.sync()["a"])
            var added: [String: String?] = [:]
            for index in 1...4 { added["a/new\(index).yaml"] = configMap("new\(index)") }
            added["a/bad.yaml"] = configMap("x").replacing("  name: x\n", with: "  name: Not_Valid\n")
            try await harness.remote.commit(added)
            let failure = Self.failure(try await harness.sync()["a"])
            #expect(failure.contains("failed validation"), "\(failure)")
            try await harness.remote.commit(added.mapValues { _ in nil })
            let changes = Self.changes(try await harness.sync()["a"])
            #expect(changes.filter { $0.hasSuffix(" unchanged") }.count == 3, "\(changes)")
            #expect(try await !inventoryText("a").contains("new1"))
        }
    }
}
