import Foundation
import Synchronization
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryTesting

@Suite("Leader election on a Lease")
struct LeaderElectorTests {
    /// Short, with room for a busy machine (an attempt may take up to a second).
    private static let timings = LeaseTimings(
        leaseDuration: .seconds(3), renewDeadline: .seconds(2), retryPeriod: .milliseconds(200))
    private static let lease = "/apis/coordination.k8s.io/v1/namespaces/default/leases/wherry-leader"

    private func elector(_ api: any KubeAPI, _ identity: String) -> LeaderElector {
        LeaderElector(
            api: api, namespace: "default", identity: identity, timings: Self.timings, logger: TestReconciler.quiet)
    }

    private static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("the fake refuses an update with a stale resourceVersion, as a real server does")
    func conflicts() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let body: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": "wherry-leader", "namespace": "default"], "spec": ["holderIdentity": "a"],
            ]
            let created = try await api.create(
                "/apis/coordination.k8s.io/v1/namespaces/default/leases", object: body, fieldManager: "test")
            await #expect(throws: KubeAPIError.self) {
                try await api.create(
                    "/apis/coordination.k8s.io/v1/namespaces/default/leases", object: body, fieldManager: "test")
            }
            var update = created.objectValue!
            update["spec"] = ["holderIdentity": "b"]
            _ = try await api.update(Self.lease, object: .object(update), fieldManager: "test")
            update["spec"] = ["holderIdentity": "c"]
            let stale = await #expect(throws: KubeAPIError.self) {
                try await api.update(Self.lease, object: .object(update), fieldManager: "test")
            }
            #expect(stale?.code == 409)
            await api.shutdown()
        }
    }

    @Test("one leads, the other waits; when the leader dies the other takes over within the lease duration")
    func handover() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let a = elector(api, "a")
            let b = elector(api, "b")
            let leading = OrderRecorder()
            let taskA = Task {
                try await a.run {
                    leading.add("a"); try await Task.sleep(for: .seconds(60))
                }
            }
            #expect(try await Self.eventually { a.isLeader })
            let taskB = Task {
                try await b.run {
                    leading.add("b"); try await Task.sleep(for: .seconds(60))
                }
            }
            try await Task.sleep(for: .milliseconds(600))
            #expect(!b.isLeader)
            #expect(b.leader == "a")
            // a dies without releasing: b waits out the lease, then takes over.
            taskA.cancel()
            _ = await taskA.result
            let died = ContinuousClock.now
            #expect(try await Self.eventually { b.isLeader })
            let handover = ContinuousClock.now - died
            #expect(
                handover >= .milliseconds(1000) && handover < Self.timings.leaseDuration + .seconds(3), "\(handover)")
            #expect(try await Self.eventually(1) { leading.names == ["a", "b"] })
            let stored = try await api.get(Self.lease)
            #expect(stored["spec"]?["holderIdentity"] == "b")
            #expect(stored["spec"]?["leaseTransitions"] == 1)
            #expect(stored["spec"]?["renewTime"]?.stringValue?.hasSuffix("Z") == true)
            taskB.cancel()
            _ = await taskB.result
            await api.shutdown()
        }
    }

    @Test("a leader that sees another holder stops its work at once; one that finishes releases the lease")
    func losingAndReleasing() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            let a = elector(api, "a")
            let cancelled = OrderRecorder()
            let taskA = Task {
                try await a.run {
                    do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.add("cancelled") }
                }
            }
            #expect(try await Self.eventually { a.isLeader })
            // Someone else writes the lease (as a takeover would).
            var lease = try await api.get(Self.lease).objectValue!
            lease["spec"] = ["holderIdentity": "intruder", "leaseDurationSeconds": 15]
            _ = try await api.update(Self.lease, object: .object(lease), fieldManager: "test")
            #expect(try await Self.eventually(3) { !cancelled.names.isEmpty })
            #expect(try await Self.eventually(1) { !a.isLeader })
            taskA.cancel()
            _ = await taskA.result
            // A leader whose work ends (graceful shutdown) releases: another takes over at once.
            var fresh = try await api.get(Self.lease).objectValue!
            fresh["spec"] = ["holderIdentity": ""]
            _ = try await api.update(Self.lease, object: .object(fresh), fieldManager: "test")
            let c = elector(api, "c")
            try await c.run {}
            #expect(try await api.get(Self.lease)["spec"]?["holderIdentity"] == "")
            let d = elector(api, "d")
            let started = ContinuousClock.now
            let taskD = Task { try await d.run { try await Task.sleep(for: .seconds(60)) } }
            #expect(try await Self.eventually { d.isLeader })
            #expect(ContinuousClock.now - started < .milliseconds(1000))
            taskD.cancel()
            _ = await taskD.result
            await api.shutdown()
        }
    }

    @Test("the leader labels its own Pod for the Service, and takes the label off when it stops leading")
    func podLabel() async throws {
        try await FakeAPIServer.withServer { server in
            let api = try TestReconciler.client(server)
            try server.put([
                "apiVersion": "v1", "kind": "Pod",
                "metadata": [
                    "name": "wherry-a", "namespace": "default", "labels": ["app.kubernetes.io/name": "wherry"],
                ],
                "spec": ["containers": [["name": "wherry", "image": "wherry"]]],
            ])
            func labels() -> JSONValue? {
                server.object(resource: "pods", namespace: "default", name: "wherry-a")?["metadata"]?["labels"]
            }
            let a = LeaderElector(
                api: api, namespace: "default", identity: "a", timings: Self.timings, pod: ("default", "wherry-a"),
                logger: TestReconciler.quiet)
            let taskA = Task { try await a.run { try await Task.sleep(for: .seconds(60)) } }
            #expect(try await Self.eventually { labels()?[LeaderElector.leaderLabel] == "true" })
            #expect(labels()?["app.kubernetes.io/name"] == "wherry")
            var lease = try await api.get(Self.lease).objectValue!
            lease["spec"] = ["holderIdentity": "intruder", "leaseDurationSeconds": 15]
            _ = try await api.update(Self.lease, object: .object(lease), fieldManager: "test")
            #expect(try await Self.eventually(3) { labels()?[LeaderElector.leaderLabel] == nil })
            #expect(labels()?["app.kubernetes.io/name"] == "wherry")
            taskA.cancel()
            _ = await taskA.result
            await api.shutdown()
        }
    }

    /// Runs `body` with a work client and a Lease client of `server` (the production pair), both shut down
    /// afterwards whatever happens, and held requests released.
    private static func withClients(
        _ server: FakeAPIServer, timings: LeaseTimings = timings,
        _ body: (_ work: HTTPKubeAPI, _ leases: HTTPKubeAPI) async throws -> Void
    ) async throws {
        let work = try TestReconciler.client(server)
        let leases = try LeaderElector.renewalClient(for: work, timings: timings, logger: TestReconciler.quiet)
        do {
            try await body(work, leases)
        } catch {
            server.releaseDelays()
            await work.shutdown()
            await leases.shutdown()
            throw error
        }
        server.releaseDelays()
        await work.shutdown()
        await leases.shutdown()
    }

    /// A ConfigMap to write.
    private static func configMap(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"]]
    }

    @Test("a stalled renewal: the work is cancelled at the renew deadline; a later write never reaches the server")
    func stalledRenewal() async throws {
        try await FakeAPIServer.withServer { server in
            try await Self.withClients(server) { work, leases in
                let a = LeaderElector(
                    api: leases, namespace: "default", identity: "a", timings: Self.timings,
                    logger: TestReconciler.quiet)
                work.fenceWrites(with: a.fence)
                let stopped = Mutex<ContinuousClock.Instant?>(nil)
                let task = Task {
                    try await a.run {
                        do { try await Task.sleep(for: .seconds(60)) } catch { stopped.withLock { $0 = .now } }
                    }
                }
                #expect(try await Self.eventually { a.isLeader })
                let path = "/api/v1/namespaces/default/configmaps"
                _ = try await work.apply(path + "/before", object: Self.configMap("before"), options: ApplyOptions())
                // The server stops answering Lease requests (they are held, not refused).
                server.delayResponses(by: .seconds(30)) { $0.path.contains("/leases") }
                let stalled = ContinuousClock.now
                #expect(try await Self.eventually(10) { stopped.withLock { $0 } != nil })
                let stoppedAfter = try #require(stopped.withLock { $0 }) - stalled
                // The last renewal started before the stall, so the deadline came at most renewDeadline after it.
                #expect(stoppedAfter <= Self.timings.renewDeadline + .seconds(1), "\(stoppedAfter)")
                #expect(!a.fence.isOpen)
                let refused = await #expect(throws: KubeAPIError.self) {
                    try await work.apply(path + "/after", object: Self.configMap("after"), options: ApplyOptions())
                }
                #expect(refused?.isFenced == true)
                #expect(!server.requests.contains { $0.path.hasSuffix("/after") })
                #expect(server.requests.filter { $0.isWrite && $0.path.hasSuffix("/before") }.count == 1)
                // Reads still go.
                #expect(try await work.get(path + "/before")["metadata"]?["name"] == "before")
                server.releaseDelays()
                task.cancel()
                _ = await task.result
            }
        }
    }

    @Test("the lease is renewed on its own connection while 100 slow requests fill the work's client")
    func renewsWhileBusy() async throws {
        try await FakeAPIServer.withServer { server in
            // Timings with room for a busy machine: the point is the queue, not the speed.
            let timings = LeaseTimings(
                leaseDuration: .seconds(4), renewDeadline: .seconds(3), retryPeriod: .milliseconds(300))
            try await Self.withClients(server, timings: timings) { work, leases in
                let a = LeaderElector(
                    api: leases, namespace: "default", identity: "a", timings: timings,
                    logger: TestReconciler.quiet)
                work.fenceWrites(with: a.fence)
                let cancelled = Mutex(false)
                let task = Task {
                    try await a.run {
                        do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLock { $0 = true } }
                    }
                }
                #expect(try await Self.eventually { a.isLeader })
                let slowPath = "/api/v1/namespaces/default/configmaps/slow"
                _ = try await work.apply(slowPath, object: Self.configMap("slow"), options: ApplyOptions())
                // Every read of the object is held far longer than the renew deadline.
                server.delayResponses(by: .seconds(30)) { $0.method == "GET" && $0.path == slowPath }
                let renewTime = try await leases.get(Self.lease)["spec"]?["renewTime"]
                let reads = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<100 { group.addTask { _ = try await work.get(slowPath) } }
                        try await group.waitForAll()
                    }
                }
                // The work's client has all its connections busy and the rest of the 100 queued.
                #expect(try await Self.eventually(5) { server.requestsInFlight >= 32 })
                try await Task.sleep(for: timings.renewDeadline * 2)
                #expect(!cancelled.withLock { $0 })
                #expect(a.isLeader)
                #expect(a.fence.isOpen)
                #expect(try await leases.get(Self.lease)["spec"]?["renewTime"] != renewTime)
                // A write while leading still goes, behind the reads.
                server.releaseDelays()
                try await reads.value
                _ = try await work.apply(slowPath, object: Self.configMap("slow"), options: ApplyOptions())
                task.cancel()
                _ = await task.result
            }
        }
    }
}
