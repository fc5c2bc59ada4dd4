import Foundation
import Logging
import Testing
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// The scenarios a real API server taught, against FakeAPIServer (which now behaves the same way), and the
/// client behaviour around them: classification, cancellation, cluster-wide failures, discovery.
@Suite("What a real API server taught, against FakeAPIServer")
struct RealServerBehaviourTests {
    @Test("a second apply of 200 mixed objects writes nothing while the Deployment controller writes")
    func secondApplyWritesNothing() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.secondApplyOf200ObjectsWritesNothing() }
    }

    @Test("a controller write between the dry run and the LIST is not a change")
    func controllerWriteBetweenReads() async throws {
        try await withFakeCluster { scenarios, server, _ in
            _ = try await scenarios.manager.apply([scenarios.namespaceObject], options: scenarios.options())
            _ = try await scenarios.manager.apply([scenarios.deployment()], options: scenarios.options())
            // Change the spec, so the controller writes again; with the delays below its write lands after the
            // dry run of the next apply (at ~250 ms) and before its LIST (at ~500 ms): the two reads see different
            // resourceVersions, and only the annotation and status the controller owns differ between them.
            server.controllerDelay = .milliseconds(400)
            _ = try await scenarios.manager.apply([scenarios.deployment(replicas: 2)], options: scenarios.options())
            server.responseDelay = .milliseconds(250)
            scenarios.counter.reset()
            let again = try await scenarios.manager.apply(
                [scenarios.deployment(replicas: 2)], options: scenarios.options())
            #expect(again.entries.map(\.action) == [.unchanged])
            #expect(scenarios.counter.counts.writes == 0)
            let live = try #require(
                server.object(group: "apps", resource: "deployments", namespace: scenarios.namespace, name: "web"))
            #expect(live["metadata"]?["annotations"]?["deployment.kubernetes.io/revision"] == "2")
            #expect(live["status"]?["observedGeneration"] == 2)
        }
    }

    @Test("a value of the wrong type is invalid, permanent, and sent once")
    func typeError() async throws {
        try await withFakeCluster { scenarios, server, _ in
            try await scenarios.typeErrorIsInvalidAndPermanent()
            let path = "/apis/apps/v1/namespaces/\(scenarios.namespace)/deployments/web"
            #expect(server.requests.filter { $0.path == path }.count == 1)
        }
    }

    @Test("a dry run checks custom resources of an existing CRD against its schema")
    func dryRunCustomResource() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.dryRunChecksCustomResourcesOfExistingCRDs() }
    }

    @Test("a failure after the first stage says what was applied")
    func failureAfterFirstStage() async throws {
        try await withFakeCluster { scenarios, _, _ in
            try await scenarios.failureAfterFirstStageSaysWhatWasApplied()
        }
    }

    @Test("objects in a Namespace the set creates are dry-run once, after it exists")
    func newNamespaceCostsOneDryRun() async throws {
        try await withFakeCluster { scenarios, server, _ in
            let objects = [scenarios.namespaceObject] + (0..<10).map { scenarios.configMap("cm-\($0)") }
            _ = try await scenarios.manager.apply(objects, options: scenarios.options())
            let dryRuns = server.requests.filter { $0.method == "PATCH" && $0.query["dryRun"] == "All" }
            #expect(dryRuns.count == 11)
            // Nothing existed, so no LIST was needed to compare.
            #expect(server.requests.filter { $0.method == "GET" && $0.path.hasSuffix("/configmaps") }.isEmpty)
        }
    }

    @Test("rejected credentials are one cluster error naming the server")
    func rejectedCredentials() async throws {
        try await withFakeCluster { scenarios, server, api in
            server.failNext(1_000, status: 401) { _ in true }
            try await scenarios.rejectedCredentialsAreOneClusterError(api)
            // Discovery was refused, so nothing else was asked.
            #expect(server.requests.count == 1)
        }
    }

    @Test("an unreachable server is one sentence with the URL and what to check")
    func unreachable() async throws {
        let api = try HTTPKubeAPI(
            connection: KubeConnection(server: "http://127.0.0.1:1"),
            options: KubeClientOptions(maxRetries: 1, retryBaseDelay: .milliseconds(1)), logger: Logger(label: "t"))
        let manager = ResourceManager(api: api, logger: Logger(label: "t"))
        let objects = (0..<50).map { index in
            KubeObject(body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("cm-\(index)")]])
        }
        let error = try await #require(throws: ApplyError.self) {
            try await manager.apply(objects, options: ApplySetOptions())
        }
        await api.shutdown()
        #expect(error.isClusterWide)
        #expect(error.isTransient)
        #expect(
            error.description
                == "cannot reach the API server at http://127.0.0.1:1: connection refused; check that the cluster is "
                + "running and that the kubeconfig's server address is right")
    }

    @Test("a 403 on one object stays with that object and names what was refused")
    func forbiddenObject() async throws {
        try await withFakeCluster { scenarios, server, _ in
            _ = try await scenarios.manager.apply([scenarios.namespaceObject], options: scenarios.options())
            server.failNext(
                1, status: 403,
                message:
                    #"secrets "s" is forbidden: User "wherry" cannot patch resource "secrets" in API group "" in the namespace "x""#
            ) {
                $0.path.hasSuffix("/secrets/s")
            }
            let secret = scenarios.parse(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}"#)
            let error = try await #require(throws: ApplyError.self) {
                try await scenarios.manager.apply([scenarios.configMap("ok"), secret], options: scenarios.options())
            }
            #expect(!error.isClusterWide)
            #expect(error.failures.map(\.ref.name) == ["s"])
            #expect(error.failures.first?.message.contains(#"cannot patch resource "secrets""#) == true)
        }
    }

    @Test("a cancelled apply stops at once and is reported as cancelled, not failed")
    func cancellation() async throws {
        try await withFakeCluster { scenarios, server, _ in
            _ = try await scenarios.manager.apply([scenarios.namespaceObject], options: scenarios.options())
            // Answers would take 10 s; a cancelled apply must not wait for them.
            server.responseDelay = .seconds(10)
            let objects = (0..<10).map { scenarios.configMap("cm-\($0)") }
            let task = Task { try await scenarios.manager.apply(objects, options: scenarios.options()) }
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            task.cancel()
            let result = await task.result
            #expect(ContinuousClock.now - started < .seconds(5))
            guard case .failure(let error as ApplyError) = result else {
                Issue.record("expected a cancelled ApplyError, got \(result)")
                return
            }
            #expect(error.isCancelled)
        }
    }

    @Test("concurrent lookups share one discovery; an unknown kind is remembered as missing")
    func discoveryIsShared() async throws {
        try await withFakeCluster { _, server, api in
            let mapper = RESTMapper(api: api)
            let kinds = (0..<20).map {
                GroupVersionKind(apiVersion: "v1", kind: $0.isMultiple(of: 2) ? "ConfigMap" : "Secret")
            }
            _ = await concurrentMap(kinds, limit: 20) { kind in try? await mapper.mapping(for: kind) }
            #expect(await mapper.discoveryCount == 1)
            let unknown = (0..<10).map { GroupVersionKind(apiVersion: "example.com/v1", kind: "Gadget\($0 % 2)") }
            _ = await concurrentMap(unknown, limit: 1) { kind in try? await mapper.mapping(for: kind) }
            #expect(await mapper.discoveryCount == 3)
            #expect(server.requests.filter { $0.path == "/api" }.count == 3)
        }
    }
}
