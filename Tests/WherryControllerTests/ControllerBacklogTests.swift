import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryModel
import WherryTesting

/// Services that will wait for health hold their apply back while the cluster's controllers are behind.
@Suite("Controller backlog")
struct ControllerBacklogTests {
    static func deployment(_ name: String, image: String = "pause:1") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: default}
        spec:
          replicas: 0
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec: {containers: [{name: app, image: "\(image)"}]}

        """
    }

    /// Runs a loop over one `wait: true` Deployment service per name, each with an apply slot, a backlog limit of
    /// one and polls every second, until `body` returns.
    static func withLoop(
        _ server: FakeAPIServer, _ remote: GitRemoteFixture, names: [String],
        events: @escaping ControllerEventSink = { _ in }, _ body: @Sendable (InMemoryStatusStore) async throws -> Void
    ) async throws {
        var text = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
        for name in names {
            text += "  - {name: \(name), github: r, k8s_yaml_dir: \(name), wait: true, timeout: 30}\n"
        }
        try await TestReconciler.withLoop(
            server, config: text, maxConcurrentServices: names.count, controllerBacklogLimit: 1, events: events
        ) { _, store in try await body(store) }
    }

    /// Of two services `a` and `b`, the one that did not write first (held back behind the other).
    static func held(_ server: FakeAPIServer) -> String {
        writes(server).first?.path.hasSuffix("/a") == true ? "b" : "a"
    }

    /// The Deployment writes (not the dry runs) the server saw, in time order.
    static func writes(_ server: FakeAPIServer) -> [FakeAPIServer.RecordedRequest] {
        server.requests.filter { $0.method == "PATCH" && $0.path.contains("/deployments/") && $0.isWrite }
            .sorted { $0.timestamp < $1.timestamp }
    }

    @Test("with a backlog limit of one, each Deployment is written only after the controller saw the one before")
    func appliesFollowTheController() async throws {
        try await FakeAPIServer.withServer { server in
            server.controllerDelay = .milliseconds(700)
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            let names = ["a", "b", "c"]
            var files: [String: String] = [:]
            for name in names { files["\(name)/deploy.yaml"] = Self.deployment(name) }
            try await remote.commit(files)
            try await Self.withLoop(server, remote, names: names) { store in
                let succeeded = try await TestReconciler.eventually(30) {
                    for name in names where try await store.status(of: name)?.lastResult != .succeeded { return false }
                    return true
                }
                #expect(succeeded)
            }
            // Each write at least most of a controller delay after the one before.
            let writes = Self.writes(server).map(\.timestamp)
            #expect(writes.count == 3)
            for (earlier, later) in zip(writes, writes.dropFirst()) {
                #expect(later.timeIntervalSince(earlier) > 0.5, "writes at \(writes)")
            }
        }
    }

    @Test("a service held back starts its run only once admitted, and applies the head the branch has then")
    func heldServiceStartsWhenAdmitted() async throws {
        try await FakeAPIServer.withServer { server in
            // Long enough that a poll (every second) sees the new head before the held service is admitted, under load too.
            let delay = 5.0
            server.controllerDelay = .milliseconds(Int(delay * 1000))
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit(["a/deploy.yaml": Self.deployment("a"), "b/deploy.yaml": Self.deployment("b")])
            let started = Mutex<[String: [Date]]>([:])
            let events: ControllerEventSink = { event in
                if case .reconcileStarted(let service, _) = event {
                    started.withLock { $0[service, default: []].append(Date()) }
                }
            }
            try await Self.withLoop(server, remote, names: ["a", "b"], events: events) { store in
                // One of the two applies; the other is held until the controller saw that one.
                let first = try await TestReconciler.eventually(10) { Self.writes(server).count == 1 }
                try #require(first)
                let held = Self.held(server)
                // Meanwhile the branch moves: the held service must apply this commit, never the one before.
                let head = try await remote.commit(["\(held)/deploy.yaml": Self.deployment(held, image: "pause:2")])
                let succeeded = try await TestReconciler.eventually(30) {
                    let a = try await store.status(of: "a")
                    let b = try await store.status(of: "b")
                    return a?.lastResult == .succeeded && b?.lastResult == .succeeded
                        && (held == "a" ? a : b)?.lastAppliedRevision == head
                }
                #expect(succeeded)
            }
            let writes = Self.writes(server)
            let held = Self.held(server)
            // Each once; the held one at the new commit (its image).
            #expect(writes.filter { $0.path.hasSuffix("/a") }.count == 1, "\(writes.map(\.path))")
            #expect(writes.filter { $0.path.hasSuffix("/b") }.count == 1, "\(writes.map(\.path))")
            let live = server.object(group: "apps", resource: "deployments", namespace: "default", name: held)
            #expect(live?["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"] == "pause:2")
            // The held one's run started (it located its commit) only once admitted, not while it waited.
            let firstWrite = try #require(writes.first?.timestamp)
            let heldStart = try #require(started.withLock { $0[held]?.first })
            #expect(heldStart.timeIntervalSince(firstWrite) > delay / 2, "started \(heldStart), first \(firstWrite)")
        }
    }

    @Test("a service still held back when a graceful shutdown begins does not apply")
    func heldServiceDoesNotApplyAfterShutdown() async throws {
        try await FakeAPIServer.withServer { server in
            server.controllerDelay = .milliseconds(2500)
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit(["a/deploy.yaml": Self.deployment("a"), "b/deploy.yaml": Self.deployment("b")])
            try await Self.withLoop(server, remote, names: ["a", "b"]) { _ in
                // One applies; the other is held until the controller saw it. The shutdown begins meanwhile.
                let first = try await TestReconciler.eventually(10) { Self.writes(server).count == 1 }
                try #require(first)
            }
            // The loop drained: the held service was let go once the controller caught up, and did not apply.
            #expect(Self.writes(server).count == 1, "\(Self.writes(server).map(\.path))")
        }
    }
}
