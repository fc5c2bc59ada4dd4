import Foundation
import Logging
import Testing
import WherryKube
import WherryModel
import WherryScenarios
import WherryTesting

/// Runs `body` with a client connected to a fresh FakeAPIServer.
func withFakeCluster(
    options: KubeClientOptions = KubeClientOptions(retryBaseDelay: .milliseconds(5)),
    _ body: @Sendable (ApplyScenarios, FakeAPIServer, HTTPKubeAPI) async throws -> Void
) async throws {
    try await FakeAPIServer.withServer { server in
        var logger = Logger(label: "wherry.test")
        logger.logLevel = .critical
        let api = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), options: options, logger: logger)
        let scenarios = ApplyScenarios(api: api, namespace: "t-\(ApplyScenarios.uniqueSuffix())")
        do {
            try await body(scenarios, server, api)
        } catch {
            await api.shutdown()
            throw error
        }
        await api.shutdown()
    }
}

@Suite("Server-side apply against FakeAPIServer")
struct FakeClusterApplyTests {
    @Test("creates objects, then a second apply changes nothing and keeps resourceVersions")
    func createThenUnchanged() async throws {
        try await withFakeCluster { scenarios, server, _ in
            try await scenarios.createsThenLeavesUnchanged()
            // Every apply was a server-side apply by field manager wherry, forced.
            let patches = server.requests.filter { $0.method == "PATCH" }
            #expect(patches.allSatisfy { $0.contentType == "application/apply-patch+yaml" })
            #expect(patches.allSatisfy { $0.query["fieldManager"] == "wherry" && $0.query["force"] == "true" })
            // The second apply wrote nothing: its PATCHes are all dry runs.
            let writes = patches.filter { $0.query["dryRun"] == nil }
            #expect(writes.count == 4)
        }
    }

    @Test("services waiting for health share one LIST+WATCH per collection; a deleted object is not found")
    func healthObserver() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.healthObserverSharesOneWatch() }
    }

    @Test("corrects drift made by another field manager")
    func drift() async throws { try await withFakeCluster { scenarios, _, _ in try await scenarios.correctsDrift() } }

    @Test("an invalid object blocks the whole set, with the server's message")
    func invalid() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.invalidObjectBlocksTheSet() }
    }

    @Test("a CRD and its custom resource apply together, the CRD waited for")
    func crd() async throws {
        try await withFakeCluster { scenarios, server, _ in
            server.crdEstablishDelay = .milliseconds(300)
            try await scenarios.appliesCRDAndCustomResourceTogether()
        }
    }

    @Test("deletes in reverse order")
    func delete() async throws {
        try await withFakeCluster { scenarios, _, _ in try await scenarios.deletesEverything() }
    }

    @Test("diff reports changed, new and unchanged objects")
    func diff() async throws { try await withFakeCluster { scenarios, _, _ in try await scenarios.diffShowsChanges() } }

    @Test("a CRD that is not established in time fails the wait step, naming it, after stage one was applied")
    func crdWaitTimeout() async throws {
        try await withFakeCluster { scenarios, server, _ in
            server.crdEstablishDelay = .seconds(5)
            let crd = scenarios.parse(
                #"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"slows.late.wherry.dev"},"spec":{"group":"late.wherry.dev","scope":"Namespaced","names":{"plural":"slows","singular":"slow","kind":"Slow"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}"#
            )
            var options = scenarios.options()
            options.waitTimeout = .milliseconds(300)
            let error = try await #require(throws: ApplyError.self) {
                try await scenarios.manager.apply(
                    [crd, scenarios.namespaceObject, scenarios.configMap("after")], options: options)
            }
            #expect(error.step == .wait)
            #expect(error.isTransient)
            #expect(error.failures.map(\.ref.description) == ["CustomResourceDefinition/slows.late.wherry.dev"])
            #expect(error.failures.first?.message.contains("condition Established is not True") == true)
            #expect(error.applied.entries.map(\.action) == [.created, .created])
            #expect(server.object(resource: "configmaps", namespace: scenarios.namespace, name: "after") == nil)
        }
    }

    @Test("a dry-run apply reports what would change and writes nothing")
    func dryRun() async throws {
        try await withFakeCluster { scenarios, server, _ in
            var options = scenarios.options()
            options.dryRun = true
            let before = server.resourceVersion
            let changes = try await scenarios.manager.apply(
                [scenarios.namespaceObject, scenarios.configMap("a")], options: options)
            #expect(changes.entries.map(\.action) == [.created, .created])
            #expect(server.resourceVersion == before)
            #expect(server.requests.filter { $0.method == "PATCH" }.allSatisfy { $0.query["dryRun"] == "All" })
        }
    }

    @Test("no more objects are written at once than the concurrency allows")
    func concurrencyBound() async throws {
        try await withFakeCluster { scenarios, server, _ in
            _ = try await scenarios.manager.apply([scenarios.namespaceObject], options: scenarios.options())
            server.responseDelay = .milliseconds(15)
            server.resetRequests()
            let objects = (0..<24).map { scenarios.configMap("cm-\($0)") }
            let changes = try await scenarios.manager.apply(objects, options: scenarios.options(concurrency: 3))
            #expect(changes.entries.count == 24)
            #expect(server.maxConcurrentRequests <= 3)
            #expect(server.maxConcurrentRequests >= 2)
        }
    }

    @Test("an unknown kind fails validation naming the object and its apiVersion")
    func unknownKind() async throws {
        try await withFakeCluster { scenarios, _, _ in
            let gadget = scenarios.parse(#"{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"}}"#)
            let error = try await #require(throws: ApplyError.self) {
                try await scenarios.manager.apply([gadget], options: scenarios.options())
            }
            #expect(error.step == .validation)
            #expect(error.failures.first?.ref.description == "Gadget/g")
            #expect(error.failures.first?.message.contains("no kind Gadget in example.com/v1") == true)
        }
    }
}

@Suite("HTTP client behaviour against FakeAPIServer")
struct HTTPKubeAPITests {
    private func isWrite(_ request: FakeAPIServer.RecordedRequest) -> Bool {
        request.method == "PATCH" && request.query["dryRun"] == nil
    }

    @Test("retries 5xx and 429 answers, then succeeds")
    func retriesServerErrors() async throws {
        try await withFakeCluster { scenarios, server, _ in
            _ = try await scenarios.manager.apply([scenarios.namespaceObject], options: scenarios.options())
            server.failNext(2, status: 503) { $0.method == "PATCH" && $0.query["dryRun"] == nil }
            server.failNext(1, status: 429, retryAfter: 1) { $0.method == "PATCH" && $0.query["dryRun"] == "All" }
            server.resetRequests()
            let started = ContinuousClock.now
            let changes = try await scenarios.manager.apply(
                [scenarios.configMap("retried")], options: scenarios.options())
            #expect(changes.entries.map(\.action) == [.created])
            #expect(server.requests.filter(isWrite).count == 3)
            #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After was not honoured")
        }
    }

    @Test("does not retry a 4xx answer")
    func noRetryOnClientErrors() async throws {
        try await withFakeCluster { scenarios, server, api in
            server.failNext(5, status: 403) { $0.path == "/api/v1/namespaces" }
            let error = try await #require(throws: KubeAPIError.self) {
                try await api.list("/api/v1/namespaces", labelSelector: nil)
            }
            #expect(error.code == 403)
            #expect(server.requests.filter { $0.path == "/api/v1/namespaces" }.count == 1)
        }
    }

    @Test("gives up after the retry limit with the last error")
    func retryLimit() async throws {
        try await withFakeCluster(options: KubeClientOptions(maxRetries: 2, retryBaseDelay: .milliseconds(1))) {
            _, server, api in
            server.failNext(10, status: 500) { $0.path == "/api" }
            let error = try await #require(throws: KubeAPIError.self) { try await api.get("/api") }
            #expect(error.code == 500)
            #expect(server.requests.filter { $0.path == "/api" }.count == 3)
        }
    }

    @Test("lists follow continue tokens and label selectors")
    func pagination() async throws {
        try await withFakeCluster { _, server, api in
            _ = try server.put(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "default"]])
            for index in 0..<1_100 {
                let labels: JSONValue = index.isMultiple(of: 2) ? ["tier": "even"] : ["tier": "odd"]
                _ = try server.put([
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": .string("cm-\(index)"), "namespace": "default", "labels": labels],
                ])
            }
            let all = try await api.list("/api/v1/namespaces/default/configmaps", labelSelector: nil)
            #expect(all.count == 1_100)
            let lists = server.requests.filter { $0.path == "/api/v1/namespaces/default/configmaps" }
            #expect(lists.count == 3)
            #expect(lists.dropFirst().allSatisfy { $0.query["continue"] != nil })
            let even = try await api.list("/api/v1/namespaces/default/configmaps", labelSelector: "tier=even")
            #expect(even.count == 550)
        }
    }

    @Test("a kubeconfig's CA, client certificate and key reach the server over TLS")
    func mutualTLS() async throws {
        let certificates = try await TestCertificates()
        try await FakeAPIServer.withServer(tls: certificates.serverTLS(requireClientCertificate: true)) { server in
            let directory = try TemporaryDirectory(prefix: "kubeconfig")
            defer { directory.remove() }
            func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
            let path = try directory.write(
                "config",
                """
                apiVersion: v1
                kind: Config
                clusters:
                - name: fake
                  cluster:
                    server: \(server.baseURL)
                    certificate-authority-data: \(b64(certificates.caCertificatePEM))
                users:
                - name: admin
                  user:
                    client-certificate-data: \(b64(certificates.clientCertificatePEM))
                    client-key-data: \(b64(certificates.clientKeyPEM))
                contexts:
                - name: fake
                  context: {cluster: fake, user: admin}
                current-context: fake
                """)
            let config = try KubeConfigLoader(environment: [:]).load(explicitPath: path)
            let api = try HTTPKubeAPI(connection: KubeConnection(config), logger: Logger(label: "test"))
            let versions = try await api.get("/api")
            await api.shutdown()
            #expect(versions["versions"] == ["v1"])
        }
    }

    @Test(
        "TLS failures surface at once as TLS failures, not timeouts", arguments: ["wrong CA", "no client certificate"])
    func tlsFailuresAreFast(kind: String) async throws {
        let certificates = try await TestCertificates()
        try await FakeAPIServer.withServer(tls: certificates.serverTLS(requireClientCertificate: true)) { server in
            let connection =
                kind == "wrong CA"
                ? KubeConnection(
                    server: server.baseURL, certificateAuthorityPEM: certificates.otherCACertificatePEM,
                    clientCertificatePEM: certificates.clientCertificatePEM, clientKeyPEM: certificates.clientKeyPEM)
                : KubeConnection(server: server.baseURL, certificateAuthorityPEM: certificates.caCertificatePEM)
            let api = try HTTPKubeAPI(
                connection: connection, options: KubeClientOptions(requestTimeout: .seconds(30)),
                logger: Logger(label: "t"))
            let started = ContinuousClock.now
            let error = try await #require(throws: KubeAPIError.self) { try await api.get("/api") }
            await api.shutdown()
            #expect(error.code == 0)
            #expect(["TLSFailure", "ConnectionFailed"].contains(error.reason), "\(error)")
            #expect(!error.isRetryable || error.reason == "ConnectionFailed")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("a client certificate without a key is refused before connecting")
    func certificateWithoutKey() async throws {
        let error = try #require(throws: KubeAPIError.self) {
            try HTTPKubeAPI(
                connection: KubeConnection(server: "https://127.0.0.1:1", clientCertificatePEM: "x"),
                logger: Logger(label: "t"))
        }
        #expect(error.message.contains("no client key"))
    }
}
