import Foundation
import Logging
import Testing
import WherryController
import WherryExec
import WherryGit
import WherryKube
import WherryModel
import WherryRender
import WherryScenarios
import WherryTesting

/// `wherry install` on a real cluster: its YAML applies with kubectl; then Wherry, run out of cluster with the token
/// of the ServiceAccount it installed, applies, prunes and corrects drift with exactly the RBAC install granted, is
/// refused (with the verb and resource named) where it was not granted, and elects one leader on its Lease.
@Suite(
    "E2E: wherry install on a real cluster",
    .enabled(
        if: ProcessInfo.processInfo.environment["WHERRY_E2E_KUBECONFIG"] != nil, "WHERRY_E2E_KUBECONFIG is not set"))
struct InstallE2ETests {
    let admin = E2ECluster.kubeconfig

    private func kubectl(_ arguments: [String], input: String? = nil) async throws -> String {
        let result = try await CommandRunner.run(
            Command("kubectl", ["--kubeconfig", admin] + arguments, input: input.map { Array($0.utf8) }))
        guard result.succeeded else {
            throw FixtureError("kubectl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdoutText
    }

    /// A kubeconfig for the installed ServiceAccount: the admin kubeconfig's server and CA, the account's token.
    private func serviceAccountKubeconfig(namespace: String, in work: TemporaryDirectory) async throws -> String {
        let token = try await kubectl(["create", "token", "wherry", "-n", namespace, "--duration", "1h"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let view = try JSONValue.parse(try await kubectl(["config", "view", "--raw", "--minify", "-o", "json"]))
        let cluster = view["clusters"]?.arrayValue?.first?["cluster"]
        let server = cluster?["server"]?.stringValue ?? ""
        let ca = cluster?["certificate-authority-data"]?.stringValue ?? ""
        return try work.write(
            "sa-kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "\(server)", certificate-authority-data: "\(ca)"}}]
            users: [{name: wherry, user: {token: "\(token)"}}]
            contexts: [{name: c, context: {cluster: c, user: wherry}}]
            current-context: c
            """)
    }

    @Test("installs, then applies, prunes and corrects drift as the installed ServiceAccount; refused elsewhere")
    func installAndRunAsServiceAccount() async throws {
        let suffix = ApplyScenarios.uniqueSuffix()
        let system = "wherry-e2e-\(suffix)-sys"
        let apps = "wherry-e2e-\(suffix)"
        let work = try TemporaryDirectory(prefix: "install")
        let remote = try await GitRemoteFixture()
        defer {
            work.remove()
            remote.remove()
        }
        let quiet = E2ECluster.quiet
        do {
            _ = try await kubectl(["create", "namespace", apps])
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
                    + "  - {name: web, github: r, k8s_yaml_dir: web, namespace: \(apps), drift_interval: 1}\n")
            var options = InstallOptions(clusterName: "e2e", image: "ghcr.io/wherry-dev/wherry:test")
            options.namespace = system
            options.namespaces = [apps]
            let plan = try InstallManifests.plan(
                configText: try String(contentsOfFile: config, encoding: .utf8), configFile: config, options: options,
                environment: [:], readFile: { _ in nil })
            // `wherry install --dry-run | kubectl apply -f -`
            _ = try await kubectl(["apply", "-f", "-"], input: YAMLWriter.stream(plan.objects))
            let saConfig = try await serviceAccountKubeconfig(namespace: system, in: work)
            let api = try E2ECluster.api(kubeconfig: saConfig)
            defer { Task { await api.shutdown() } }
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { cache.remove() }
            let syncer = ServiceSyncer(
                renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path), logger: quiet),
                manager: ResourceManager(api: api, logger: quiet), defaultNamespace: apps,
                inventories: InventoryKeeper(cluster: ClusterInventory(api: api, namespace: system)), logger: quiet)
            let cm = { (name: String) in "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name)}\ndata: {k: v}\n" }
            try await remote.commit(["web/a.yaml": cm("a"), "web/b.yaml": cm("b"), "web/c.yaml": cm("c")])
            let loaded = try ConfigLoader.load(path: config).config
            let web = try #require(loaded.service(named: "web"))
            let reconciler = Reconciler(syncer: syncer, store: InMemoryStatusStore(), logger: quiet)
            guard case .applied(let first, _) = await reconciler.reconcile(web, in: loaded, trigger: .poll) else {
                Issue.record("the ServiceAccount could not apply")
                return
            }
            #expect(first.changes.entries.filter { $0.action == .created }.count == 3)
            // Prune.
            try await remote.commit(["web/c.yaml": nil])
            guard case .applied(let second, _) = await reconciler.reconcile(web, in: loaded, trigger: .poll) else {
                Issue.record("the ServiceAccount could not prune")
                return
            }
            #expect(second.changes.entries.map(\.description).contains("ConfigMap/\(apps)/c deleted"))
            // Drift.
            _ = try await kubectl(["delete", "configmap", "a", "-n", apps])
            guard case .applied(let drift, _) = await reconciler.reconcile(web, in: loaded, trigger: .drift) else {
                Issue.record("the drift check failed")
                return
            }
            #expect(drift.drifted.map(\.description) == ["ConfigMap/\(apps)/a"])
            // Not granted: a namespace outside the list.
            try await remote.commit([
                "web/elsewhere.yaml": cm("x").replacing("{name: x}", with: "{name: x, namespace: default}")
            ])
            guard case .failed(let refused) = await reconciler.reconcile(web, in: loaded, trigger: .poll) else {
                Issue.record("an object outside the granted namespaces was applied")
                return
            }
            #expect(refused.description.contains("ConfigMap/default/x"), "\(refused)")
            #expect(refused.description.contains("cannot patch resource \"configmaps\""), "\(refused)")
            #expect(refused.description.contains("in the namespace \"default\""), "\(refused)")
        } catch {
            _ = try? await kubectl(["delete", "namespace", apps, system, "--wait=false"])
            throw error
        }
        _ = try? await kubectl(["delete", "namespace", apps, system, "--wait=false"])
    }

    @Test("two replicas with the installed RBAC elect one leader; when it dies the other takes over")
    func leaderElection() async throws {
        let system = "wherry-e2e-\(ApplyScenarios.uniqueSuffix())-sys"
        let work = try TemporaryDirectory(prefix: "install")
        defer { work.remove() }
        let quiet = E2ECluster.quiet
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: https://example.com/r.git}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"
        )
        var options = InstallOptions(clusterName: "e2e", image: "ghcr.io/wherry-dev/wherry:test")
        options.namespace = system
        let plan = try InstallManifests.plan(
            configText: try String(contentsOfFile: config, encoding: .utf8), configFile: config, options: options,
            environment: [:], readFile: { _ in nil })
        // Only what the replicas need for the Lease: the namespace, the account and its own Role.
        let needed = plan.objects.filter { ["Namespace", "ServiceAccount", "Role", "RoleBinding"].contains($0.kind) }
        _ = try await kubectl(["apply", "-f", "-"], input: YAMLWriter.stream(needed))
        let api = try E2ECluster.api(
            kubeconfig: try await serviceAccountKubeconfig(namespace: system, in: work))
        let timings = LeaseTimings(
            leaseDuration: .seconds(4), renewDeadline: .milliseconds(3000), retryPeriod: .milliseconds(500))
        // Their Pods (Pending without a kubelet), which the leader labels for the Service.
        for name in ["replica-a", "replica-b"] {
            _ = try await kubectl(
                ["apply", "-f", "-"],
                input: "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name), namespace: \(system)}\n"
                    + "spec: {containers: [{name: w, image: registry.k8s.io/pause:3.9}]}\n")
        }
        let a = LeaderElector(
            api: api, namespace: system, identity: "replica-a", timings: timings, pod: (system, "replica-a"),
            logger: quiet)
        let b = LeaderElector(
            api: api, namespace: system, identity: "replica-b", timings: timings, pod: (system, "replica-b"),
            logger: quiet)
        let taskA = Task { try await a.run { try await Task.sleep(for: .seconds(120)) } }
        let taskB = Task { try await b.run { try await Task.sleep(for: .seconds(120)) } }
        var waited = 0
        while !a.isLeader && !b.isLeader && waited < 100 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        #expect(a.isLeader != b.isLeader)
        let (leader, follower, leaderTask, followerTask) = a.isLeader ? (a, b, taskA, taskB) : (b, a, taskB, taskA)
        try await Task.sleep(for: .seconds(1))
        #expect(!follower.isLeader)
        leaderTask.cancel()
        _ = await leaderTask.result
        let died = ContinuousClock.now
        while !follower.isLeader && ContinuousClock.now - died < .seconds(15) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let handover = ContinuousClock.now - died
        #expect(follower.isLeader, "no takeover after \(handover)")
        #expect(handover < timings.leaseDuration + timings.retryPeriod * 3, "\(handover)")
        // The new leader's Pod carries the label (the dead one's is left: its Pod would be gone with it).
        let followerPod = follower === a ? "replica-a" : "replica-b"
        var labelled = ""
        for _ in 0..<50 where labelled != "true" {
            labelled = try await kubectl(
                ["get", "pod", followerPod, "-n", system, "-o", "jsonpath={.metadata.labels.wherry\\.dev/leader}"])
            if labelled != "true" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(labelled == "true")
        print("E2E leader handover after the leader died: \(handover) (lease duration \(timings.leaseDuration))")
        _ = leader
        followerTask.cancel()
        _ = await followerTask.result
        await api.shutdown()
        _ = try? await kubectl(["delete", "namespace", system, "--wait=false"])
    }
}
