import Logging
import Testing
import WherryKube
import WherryModel
import WherryTesting

/// The shared health observer against FakeAPIServer: one LIST+WATCH per collection for every waiting service.
@Suite("Health observer")
struct HealthObserverTests {
    static func deployment(_ name: String, replicas: Int = 0, image: String = "pause:1") -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": "default"],
            "spec": [
                "replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "app", "image": .string(image)]]],
                ],
            ],
        ]
    }

    static func entry(_ name: String) -> InventoryEntry {
        InventoryEntry(
            ref: ObjectRef(group: "apps", kind: "Deployment", namespace: "default", name: name), apiVersion: "apps/v1")
    }

    /// A client and an observer on a fresh fake server (quick polling, short linger), stopped afterwards.
    static func withObserver(
        _ body: @Sendable (FakeAPIServer, HealthObserver) async throws -> Void
    ) async throws {
        try await FakeAPIServer.withServer { server in
            var logger = Logger(label: "wherry.test")
            logger.logLevel = .critical
            let api = try HTTPKubeAPI(
                connection: KubeConnection(server: server.baseURL),
                options: KubeClientOptions(retryBaseDelay: .milliseconds(5)), logger: logger)
            let observer = HealthObserver(
                api: api, mapper: RESTMapper(api: api), pollInterval: .milliseconds(50), linger: .milliseconds(200),
                logger: logger)
            do {
                try await body(server, observer)
            } catch {
                observer.stop()
                await api.shutdown()
                throw error
            }
            observer.stop()
            await api.shutdown()
        }
    }

    static func watches(_ server: FakeAPIServer) -> [FakeAPIServer.RecordedRequest] {
        server.requests.filter { $0.query["watch"] == "1" }
    }

    @Test("waits until the controller has observed each Deployment, with one LIST and one WATCH for all of them")
    func becomesHealthyShared() async throws {
        try await Self.withObserver { server, observer in
            server.controllerDelay = .milliseconds(300)
            let names = (1...20).map { "app-\($0)" }
            for name in names { try server.put(Self.deployment(name)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names {
                    group.addTask { try await observer.waitUntilHealthy([Self.entry(name)], timeout: .seconds(20)) }
                }
                try await group.waitForAll()
            }
            for name in names {
                let live = try #require(
                    server.object(group: "apps", resource: "deployments", namespace: "default", name: name))
                #expect(Health.of(live) == .healthy)
            }
            // Twenty waits, no GET of any object: one list and one watch of the collection (on a busy machine the
            // waits may end on the list alone, the watch still being sent).
            for _ in 0..<100 where Self.watches(server).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            let reads = server.requests.filter { $0.method == "GET" && $0.path.contains("/deployments") }
            #expect(reads.filter { $0.query["watch"] == nil }.count == 1)
            #expect(Self.watches(server).count == 1)
            #expect(!reads.contains { $0.path.hasSuffix("/app-1") })
        }
    }

    @Test("fails at once, with the rollout's reason, when a Deployment becomes degraded while waited on")
    func degraded() async throws {
        try await Self.withObserver { server, observer in
            try server.put(Self.deployment("web", replicas: 1))
            let started = ContinuousClock.now
            let waiting = Task { try await observer.waitUntilHealthy([Self.entry("web")], timeout: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(300))
            server.setStatus(
                [
                    "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                    "conditions": [
                        [
                            "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                            "message": "ReplicaSet \"web-1\" has timed out progressing.",
                        ]
                    ],
                ], group: "apps", resource: "deployments", namespace: "default", name: "web")
            let error = await #expect(throws: ApplyError.self) { try await waiting.value }
            #expect(error?.failures.first?.reason == "Degraded")
            #expect(error?.description.contains("ProgressDeadlineExceeded") == true)
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test("an object deleted while waited on is reported as not found when the wait times out")
    func deleted() async throws {
        try await Self.withObserver { server, observer in
            try server.put(Self.deployment("gone", replicas: 1))
            let waiting = Task { try await observer.waitUntilHealthy([Self.entry("gone")], timeout: .seconds(2)) }
            try await Task.sleep(for: .milliseconds(300))
            server.remove(group: "apps", resource: "deployments", namespace: "default", name: "gone")
            let error = await #expect(throws: ApplyError.self) { try await waiting.value }
            #expect(error?.failures.first?.reason == "Timeout")
            #expect(error?.description.contains("not found") == true)
        }
    }

    @Test("a watch the server ends is resumed from its last version; one that is too old lists again")
    func resumedWatch() async throws {
        try await Self.withObserver { server, observer in
            server.maxWatchDuration = .milliseconds(200)
            server.controllerDelay = .milliseconds(1500)
            try server.put(Self.deployment("slow"))
            try await observer.waitUntilHealthy([Self.entry("slow")], timeout: .seconds(20))
            // Resumed, several times, without listing again.
            #expect(Self.watches(server).count >= 2)
            #expect(server.requests.filter { $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil }.count == 1)

            // History compacted: the next resume gets 410 and the informer lists again.
            server.controllerDelay = .milliseconds(800)
            let lists = server.requests.filter { $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil }.count
            try server.put(Self.deployment("later"))
            server.compactWatchHistory()
            try await observer.waitUntilHealthy([Self.entry("later")], timeout: .seconds(20))
            let relists = server.requests.filter { $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil }
            #expect(relists.count > lists)
        }
    }

    @Test("a collection the controller may not watch is listed every poll interval while someone waits")
    func forbiddenWatch() async throws {
        try await Self.withObserver { server, observer in
            server.failNext(1000, status: 403, message: "watch is forbidden") { $0.query["watch"] == "1" }
            server.controllerDelay = .milliseconds(1500)
            try server.put(Self.deployment("polled"))
            try await observer.waitUntilHealthy([Self.entry("polled")], timeout: .seconds(20))
            #expect(Self.watches(server).count == 1)
            let lists = server.requests.filter { $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil }
            #expect(lists.count >= 2)
            #expect(observer.collections.values.allSatisfy { !$0 })
        }
    }

    @Test("an observation older than the generation the apply left does not count")
    func staleGeneration() async throws {
        try await Self.withObserver { server, observer in
            try server.put(Self.deployment("app"))
            try await observer.waitUntilHealthy([Self.entry("app")], timeout: .seconds(10))
            // The informer lingers with generation 1 cached; an apply that left generation 5 must wait for it.
            let ref = Self.entry("app").ref
            let error = await #expect(throws: ApplyError.self) {
                try await observer.waitUntilHealthy([Self.entry("app")], generations: [ref: 5], timeout: .seconds(1))
            }
            #expect(error?.description.contains("generation 5 not observed yet") == true)
        }
    }

    @Test("informers stop once nobody waits on them")
    func lingerEnds() async throws {
        try await Self.withObserver { server, observer in
            try server.put(Self.deployment("app"))
            try await observer.waitUntilHealthy([Self.entry("app")], timeout: .seconds(10))
            #expect(observer.collections.count == 1)
            try await Task.sleep(for: .milliseconds(600))
            #expect(observer.collections.isEmpty)
        }
    }

    @Test("the controller backlog counts waited-on objects the controller has not seen, not slow rollouts")
    func controllerBacklog() async throws {
        try await Self.withObserver { server, observer in
            server.controllerDelay = .milliseconds(1500)
            let names = (1...4).map { "behind-\($0)" }
            for name in names { try server.put(Self.deployment(name)) }
            // Seen by its controller, but its one replica never becomes ready: a slow rollout, not a backlog.
            try server.put(Self.deployment("rolling", replicas: 1))
            server.setStatus(
                ["observedGeneration": 1, "replicas": 1, "updatedReplicas": 1],
                group: "apps", resource: "deployments", namespace: "default", name: "rolling")
            let waits = (names + ["rolling"]).map { name in
                Task { try await observer.waitUntilHealthy([Self.entry(name)], timeout: .seconds(20)) }
            }
            #expect(observer.controllerBacklog == 0, "nobody subscribed yet")
            var backlog = 0
            for _ in 0..<50 where backlog != 4 {
                try await Task.sleep(for: .milliseconds(20))
                backlog = observer.controllerBacklog
            }
            #expect(backlog == 4)
            // Held until the controller caught up with the four.
            let (place, _) = await observer.waitForControllers(below: 2, interval: .milliseconds(20))
            // Admitted only once the controller saw at least three of the four.
            let observed = names.filter { name in
                let live = server.object(group: "apps", resource: "deployments", namespace: "default", name: name)
                return live.map { !Health.awaitsController($0) } ?? false
            }
            #expect(observed.count >= 3)
            // The place it holds counts until released: admitted below the limit (the fourth may not be seen yet),
            // plus its place, so at most the limit.
            #expect(observer.controllerBacklog <= 2)
            #expect(observer.controllerBacklog >= 1)
            let before = observer.controllerBacklog
            place.release()
            place.release()
            #expect(observer.controllerBacklog == before - 1)
            for wait in waits.prefix(4) { try await wait.value }
            #expect(observer.controllerBacklog == 0)
            waits.last?.cancel()
            // Nobody waits on anything: no backlog, no hold.
            try await Task.sleep(for: .milliseconds(100))
            let (idlePlace, idle) = await observer.waitForControllers(below: 1)
            #expect(idle < .milliseconds(50))
            #expect(observer.controllerBacklog == 1)
            idlePlace.release()
            #expect(observer.controllerBacklog == 0)
        }
    }

    @Test("a collection that cannot be listed does not count in the controller backlog")
    func unreadableCollectionIsNoBacklog() async throws {
        try await Self.withObserver { server, observer in
            server.failNext(1000, status: 403, message: "list is forbidden") {
                $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil
            }
            try server.put(Self.deployment("hidden"))
            let waiting = Task { try await observer.waitUntilHealthy([Self.entry("hidden")], timeout: .seconds(20)) }
            var backlog = -1
            for _ in 0..<50 where backlog != 0 {
                try await Task.sleep(for: .milliseconds(20))
                backlog = observer.controllerBacklog
            }
            #expect(backlog == 0)
            #expect(observer.reserve(below: 1) != nil)
            waiting.cancel()
        }
    }

    @Test("an informer reads its collection a page at a time")
    func listsInPages() async throws {
        try await Self.withObserver { server, observer in
            for index in 1...250 { try server.put(Self.deployment("app-\(index)")) }
            try await observer.waitUntilHealthy([Self.entry("app-250")], timeout: .seconds(20))
            let pages = server.requests.filter { $0.path.hasSuffix("/deployments") && $0.query["watch"] == nil }
            #expect(pages.count == 3)
            #expect(pages.allSatisfy { $0.query["limit"] == "100" })
        }
    }
}
