import Foundation
import Testing
import WherryModel
import WherryTesting

/// A `wherry run` on FakeAPIServer with one Git remote, for the commands that control a running controller.
struct ControlledWherry {
    static let token = "control-token-4242"
    let server: FakeAPIServer
    let remote: GitRemoteFixture
    let work: TemporaryDirectory
    let config: String
    let kubeconfig: String
    var wherry: RunningWherry
    /// The commit the remote starts at.
    var first = ""

    var address: String { "127.0.0.1:\(wherry.port)" }

    static func configMap(_ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  value: \"\(value)\"\n"
    }

    /// Starts `wherry run` with services `shop` (a ConfigMap) and `frozen` (`suspend: true`) and `extra` config.
    static func start(
        _ server: FakeAPIServer, name: String, extra: String = "", pollInterval: Int = 1, services: String = ""
    ) async throws -> ControlledWherry {
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: name)
        let first = try await remote.commit([
            "shop/cm.yaml": configMap("1"),
            "frozen/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\n",
        ])
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: \(pollInterval)\n"
                + "api_token_env: CONTROL_TEST_TOKEN\nservices:\n"
                + "  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default\(extra)}\n"
                + "  - {name: frozen, github: r, k8s_yaml_dir: frozen, namespace: default, suspend: true}\n" + services)
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        let wherry = try await Self.run(config: config, kubeconfig: kubeconfig, work: work, state: "state", name: name)
        return ControlledWherry(
            server: server, remote: remote, work: work, config: config, kubeconfig: kubeconfig, wherry: wherry,
            first: first)
    }

    static func run(
        config: String, kubeconfig: String, work: TemporaryDirectory, state: String, name: String
    ) async throws -> RunningWherry {
        try await RunningWherry.start(
            [
                "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/" + state, "--listen",
                "127.0.0.1:0",
            ],
            work: work, name: name, environment: ["CONTROL_TEST_TOKEN": token])
    }

    /// Runs `wherry ARGS --server <this controller>` with the token in `$WHERRY_API_TOKEN` (or none).
    func cli(_ arguments: [String], token: String? = ControlledWherry.token) async throws -> CLI.Output {
        try await CLI.run(
            arguments + ["--server", address],
            environment: ["WHERRY_API_TOKEN": token, "WHERRY_SERVER": nil])
    }

    /// The service's object in `GET /v1/gitops/services/{name}`.
    func status(_ name: String) async throws -> JSONValue {
        let output = try await CLI.run(["status", "--server", "http://" + address, "--output", "json"])
        let all = try JSONValue.parse(Array(output.stdout.utf8))
        return all["services"]?.arrayValue?.first { $0["name"]?.stringValue == name } ?? .null
    }

    /// The `value` of ConfigMap `shop` in the fake cluster.
    var shopValue: String? {
        server.object(resource: "configmaps", namespace: "default", name: "shop")?["data"]?["value"]?.stringValue
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Int = 30, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    func remove() {
        wherry.kill()
        remote.remove()
        work.remove()
    }
}

@Suite("wherry suspend / resume against wherry run")
struct SuspendCommandTests {
    @Test("suspend stops reconciles, survives a restart with a fresh state dir, resume applies what Git holds")
    func suspendAndResume() async throws {
        try await FakeAPIServer.withServer { server in
            var control = try await ControlledWherry.start(server, name: "suspend")
            defer { control.remove() }
            #expect(try await ControlledWherry.eventually { control.shopValue == "1" }, "\(control.wherry.stderr)")

            // Without a token: a usage error that says where a token comes from; a wrong one: refused (401).
            let none = try await control.cli(["suspend", "shop"], token: nil)
            #expect(none.exitCode == 2, "\(none.all)")
            #expect(none.stderr.contains("WHERRY_API_TOKEN"), "\(none.all)")
            let wrong = try await control.cli(["suspend", "shop"], token: "not-the-token")
            #expect(wrong.exitCode == 1, "\(wrong.all)")
            #expect(wrong.stderr.contains("HTTP 401"), "\(wrong.all)")
            let unknown = try await control.cli(["suspend", "nope"])
            #expect(unknown.exitCode == 1, "\(unknown.all)")
            #expect(unknown.stderr.contains("no service named 'nope'"), "\(unknown.all)")

            let suspended = try await control.cli(["suspend", "shop"])
            #expect(suspended.exitCode == 0, "\(suspended.all)")
            #expect(suspended.stdout.contains("service shop suspended"), "\(suspended.all)")
            var status = try await control.status("shop")
            #expect(status["suspended"] == .bool(true))
            #expect(status["suspended_by"] == .string("api"))
            #expect(status["state"] == .string("suspended"))
            let inventory = server.object(
                resource: "configmaps", namespace: "wherry-system", name: "wherry-inventory-shop")
            #expect(inventory?["metadata"]?["annotations"]?["wherry.dev/suspended-at"]?.stringValue != nil)

            // New commits are not applied while suspended.
            try await control.remote.commit(["shop/cm.yaml": ControlledWherry.configMap("2")])
            try await Task.sleep(for: .seconds(4))
            #expect(control.shopValue == "1")

            // The config's suspend: true wins: resuming it is a conflict that says to edit the config.
            let frozen = try await control.cli(["resume", "frozen"])
            #expect(frozen.exitCode == 1, "\(frozen.all)")
            #expect(frozen.stderr.contains("suspend: true"), "\(frozen.all)")
            #expect(try await control.status("frozen")["suspended_by"] == .string("config"))

            // A restart with an empty state directory still finds the suspension (on the inventory ConfigMap).
            control.wherry.kill()
            _ = try await control.wherry.exit(within: 10)
            control.wherry = try await ControlledWherry.run(
                config: control.config, kubeconfig: control.kubeconfig, work: control.work, state: "fresh",
                name: "suspend-2")
            #expect(try await ControlledWherry.eventually { try await control.wherry.readyz().contains("ready") })
            try await Task.sleep(for: .seconds(3))
            status = try await control.status("shop")
            #expect(status["suspended_by"] == .string("api"), "\(status)")
            #expect(control.shopValue == "1")

            let resumed = try await control.cli(["resume", "shop"])
            #expect(resumed.exitCode == 0, "\(resumed.all)")
            #expect(resumed.stdout.contains("resumed"), "\(resumed.all)")
            #expect(try await ControlledWherry.eventually { control.shopValue == "2" })
            status = try await control.status("shop")
            #expect(status["suspended"] == .bool(false))
            let annotations = server.object(
                resource: "configmaps", namespace: "wherry-system", name: "wherry-inventory-shop")?["metadata"]?[
                    "annotations"]
            #expect(annotations?["wherry.dev/suspended-at"] == nil, "\(String(describing: annotations))")
            let again = try await control.cli(["resume", "shop", "--output", "json"])
            #expect(try JSONValue.parse(Array(again.stdout.utf8))["changed"] == .bool(false), "\(again.all)")
        }
    }
}

@Suite("wherry reconcile against wherry run")
struct ReconcileCommandTests {
    @Test("--wait returns once that reconcile finished: exit 0 with its result, 1 with the error when it failed")
    func reconcileWait() async throws {
        try await FakeAPIServer.withServer { server in
            let control = try await ControlledWherry.start(
                server, name: "reconcile", pollInterval: 3600,
                services: "  - {name: after, github: r, k8s_yaml_dir: shop, namespace: other, depends_on: [frozen]}\n")
            defer { control.remove() }
            #expect(try await ControlledWherry.eventually { control.shopValue == "1" }, "\(control.wherry.stderr)")

            // Changed by hand: a manual reconcile puts it back, and --wait returns only once it has.
            var edited = try #require(server.object(resource: "configmaps", namespace: "default", name: "shop"))
            edited["data"] = ["value": "by-hand"]
            edited["metadata"]?["managedFields"] = nil
            _ = try server.put(edited)
            #expect(control.shopValue == "by-hand")
            let head = control.first
            let waited = try await control.cli(["reconcile", "shop", "--wait"])
            #expect(waited.exitCode == 0, "\(waited.all)")
            #expect(control.shopValue == "1")
            #expect(waited.stdout.contains("service shop: succeeded at \(head.prefix(12))"), "\(waited.all)")

            // Without --wait: queued.
            let queued = try await control.cli(["reconcile", "shop"])
            #expect(queued.exitCode == 0, "\(queued.all)")
            #expect(queued.stdout.contains("reconcile of service shop queued"), "\(queued.all)")

            // A commit that cannot be applied: exit 1 with the error (the poll interval is an hour: only the manual
            // reconcile reads the new head).
            try await control.remote.commit(["shop/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"])
            let failed = try await control.cli(["reconcile", "shop", "--wait", "--output", "json"])
            #expect(failed.exitCode == 1, "\(failed.all)")
            let result = try JSONValue.parse(Array(failed.stdout.utf8))
            #expect(result["result"] == .string("failed"), "\(failed.all)")
            #expect(result["error"]?.stringValue?.isEmpty == false, "\(failed.all)")

            // A service waiting for a suspended dependency never finishes: the wait times out with a clear message.
            let timedOut = try await control.cli(["reconcile", "after", "--wait", "--timeout", "2s"])
            #expect(timedOut.exitCode == 1, "\(timedOut.all)")
            #expect(timedOut.stderr.contains("waits for service frozen"), "\(timedOut.all)")
            #expect(timedOut.stderr.contains("timed out after 2s"), "\(timedOut.all)")

            // A service suspended at runtime is not synced: the controller says to resume it.
            #expect(try await control.cli(["suspend", "shop"]).exitCode == 0)
            let refused = try await control.cli(["reconcile", "shop"])
            #expect(refused.exitCode == 1, "\(refused.all)")
            #expect(refused.stderr.contains("wherry resume shop"), "\(refused.all)")
        }
    }
}

@Suite("wherry wait against wherry run")
struct WaitCommandTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: nginx}]}

        """

    @Test("exit 0 once the revision is applied (the head by default), 1 when it failed or on timeout")
    func waitForRevision() async throws {
        try await FakeAPIServer.withServer { server in
            let control = try await ControlledWherry.start(server, name: "wait")
            defer { control.remove() }
            let head = try await control.cli(["wait", "shop", "--timeout", "30s"])
            #expect(head.exitCode == 0, "\(head.all)")
            #expect(head.stdout.contains("service shop applied \(control.first.prefix(12))"), "\(head.all)")

            let second = try await control.remote.commit(["shop/cm.yaml": ControlledWherry.configMap("2")])
            let applied = try await control.cli([
                "wait", "shop", "--revision", String(second.prefix(8)), "--timeout", "30s",
            ])
            #expect(applied.exitCode == 0, "\(applied.all)")
            #expect(control.shopValue == "2")
            #expect(applied.stdout.contains("applied \(second.prefix(12))"), "\(applied.all)")
            // The branch moved past the first commit: it was applied all the same (its line in the history says so).
            let past = try await control.cli([
                "wait", "shop", "--revision", String(control.first.prefix(8)), "--timeout", "5s",
            ])
            #expect(past.exitCode == 0, "\(past.all)")
            #expect(past.stdout.contains("applied \(control.first.prefix(12))"), "\(past.all)")

            let broken = try await control.remote.commit([
                "shop/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"
            ])
            let failed = try await control.cli(["wait", "shop", "--revision", broken, "--timeout", "30s", "-o", "json"])
            #expect(failed.exitCode == 1, "\(failed.all)")
            let answer = try JSONValue.parse(Array(failed.stdout.utf8))
            #expect(answer["result"] == .string("failed"), "\(failed.all)")
            #expect(answer["revision"] == .string(broken), "\(failed.all)")

            let never = try await control.cli(["wait", "shop", "--revision", "deadbeef", "--timeout", "2s"])
            #expect(never.exitCode == 1, "\(never.all)")
            #expect(never.stderr.contains("timed out after 2s waiting for service shop to apply revision deadbeef"))
            let usage = try await control.cli(["wait", "shop", "--revision", "main"])
            #expect(usage.exitCode == 2, "\(usage.all)")
        }
    }

    @Test("--health waits for the objects to be healthy, not just applied")
    func waitForHealth() async throws {
        try await FakeAPIServer.withServer { server in
            let control = try await ControlledWherry.start(
                server, name: "wait-health",
                services: "  - {name: web, github: r, k8s_yaml_dir: web, namespace: default}\n")
            defer { control.remove() }
            let commit = try await control.remote.commit(["web/deploy.yaml": Self.deployment])
            let applied = try await control.cli(["wait", "web", "--revision", commit, "--timeout", "30s"])
            #expect(applied.exitCode == 0, "\(applied.all)")
            let health = try await control.cli(["wait", "web", "--revision", commit, "--timeout", "1s", "--health"])
            #expect(health.exitCode == 1, "\(health.all)")
            #expect(health.stderr.contains("not healthy: Deployment/default/web"), "\(health.all)")
            // Its rollout completes 2 s into the wait: the wait returns after it.
            let generation =
                server.object(group: "apps", resource: "deployments", namespace: "default", name: "web")?[
                    "metadata"]?["generation"] ?? .int(1)
            let rollout = Task {
                try await Task.sleep(for: .seconds(2))
                server.setStatus(
                    [
                        "observedGeneration": generation, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                        "availableReplicas": 1,
                        "conditions": [
                            ["type": "Available", "status": "True"],
                            ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"],
                        ],
                    ], group: "apps", resource: "deployments", namespace: "default", name: "web")
            }
            let started = ContinuousClock.now
            let healthy = try await control.cli(["wait", "web", "--health", "--timeout", "30s", "-o", "json"])
            try await rollout.value
            #expect(ContinuousClock.now - started >= .seconds(2))
            #expect(healthy.exitCode == 0, "\(healthy.all)")
            #expect(try JSONValue.parse(Array(healthy.stdout.utf8))["healthy"] == .bool(true), "\(healthy.all)")
        }
    }
}
