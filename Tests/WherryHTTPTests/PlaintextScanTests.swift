import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryGit
import WherryHTTP
import WherryKube
import WherryModel
import WherryTesting

/// A whole controller run with an encrypted Secret (applied, then a tampered file, then a file for another key),
/// after which every log line, error, notification, status answer, SQLite byte and file on disk is searched for
/// the plaintext: it must be only in the cluster's Secret.
@Suite("Secrets in Git: the plaintext appears nowhere but in the cluster")
struct PlaintextScanTests {
    static let plaintext = "pl41ntext-Hunter2-scan-9f3c"

    static func secret(_ value: String) -> String {
        """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
          namespace: default
        type: Opaque
        stringData:
          password: \(value)

        """
    }

    @Test("a reconcile run through success and failures leaves the plaintext only in the applied Secret")
    func scanEverything() async throws {
        let key = try await TestAgeKey()
        let other = try await TestAgeKey()
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        let state = try TemporaryDirectory(prefix: "state")
        defer {
            key.remove()
            other.remove()
            remote.remove()
            cache.remove()
            state.remove()
        }
        let encrypted = try await key.encrypt(Self.secret(Self.plaintext))
        try await remote.commit(["app/secret.enc.yaml": encrypted, "app/cm.yaml": TestConfigMap.text])
        let text = """
            poll_interval: 1
            github_configs:
              r: {url: \(remote.fileURL), decryption: {provider: sops, age_key_file: \(key.file)}}
            services:
              - {name: app, github: r, k8s_yaml_dir: app, drift_interval: 0}
            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let logs = CapturedLogs()
        let logger = logs.logger()
        let notifications = Mutex<[DeployNotification]>([])
        let store = try SQLiteStatusStore(directory: state.path)
        let answers = try await FakeAPIServer.withServer { server -> [String] in
            var answers: [String] = []
            let api = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), logger: logger)
            let syncer = ServiceSyncer(
                renderer: ServiceRenderer(
                    git: GitCLISource(cacheDirectory: cache.path, logger: logger), logger: logger),
                manager: ResourceManager(api: api, logger: logger), logger: logger)
            let loop = ReconcileLoop(
                config: config, reconciler: Reconciler(syncer: syncer, store: store, logger: logger), logger: logger,
                notify: { note in notifications.withLock { $0.append(note) } })
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                do {
                    answers = try await drive(
                        server: server, store: store, loop: loop, config: config, remote: remote, key: key,
                        other: other)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // The inventory ConfigMap and every other object but the Secret itself.
            for resource in ["configmaps", "events"] {
                answers += server.objects(resource: resource).map { "\($0)" }
            }
            await api.shutdown()
            return answers
        }
        try scan(
            logs: logs, answers: answers, notifications: notifications.withLock { $0 }, roots: [state.path, cache.path])
    }

    /// Applies, then fails twice; returns the status API's answers.
    private func drive(
        server: FakeAPIServer, store: SQLiteStatusStore, loop: ReconcileLoop, config: WherryConfig,
        remote: GitRemoteFixture, key: TestAgeKey, other: TestAgeKey
    ) async throws -> [String] {
        // Applied: the Secret in the cluster holds the plaintext.
        #expect(try await eventually { try await store.status(of: "app")?.lastResult == .succeeded })
        let stored = server.object(resource: "secrets", namespace: "default", name: "db")
        #expect(stored?["data"]?["password"]?.stringValue == Data(Self.plaintext.utf8).base64EncodedString())

        // A file changed after encryption (its MAC no longer matches), then a file for another key: failures.
        let encrypted = try await key.encrypt(Self.secret(Self.plaintext))
        try await remote.commit(["app/secret.enc.yaml": encrypted.replacing("type: Opaque", with: "type: Tampered")])
        #expect(try await eventually { try await store.status(of: "app")?.lastError?.contains("MAC") == true })
        try await remote.commit(["app/secret.enc.yaml": try await other.encrypt(Self.secret(Self.plaintext))])
        #expect(
            try await eventually {
                try await store.status(of: "app")?.lastError?.contains("no age identity") == true
            })

        let app = Application(
            router: StatusAPI(
                config: config, store: store, loop: loop, apiToken: "t0ken-for-test", webhookSecret: nil,
                metrics: PrometheusCollectorRegistry(), elector: nil
            ).router())
        return try await app.test(.router) { client in
            var answers: [String] = []
            for uri in [
                "/v1/gitops/repos", "/v1/gitops/services", "/v1/gitops/services/app",
                "/v1/gitops/services/app/history",
            ] {
                let body = try await client.execute(uri: uri, method: .get) { String(buffer: $0.body) }
                answers.append(body)
            }
            return answers
        }
    }

    /// Searches everything the run left for the plaintext (and its base64).
    private func scan(
        logs: CapturedLogs, answers: [String], notifications: [DeployNotification], roots: [String]
    ) throws {
        let needles = [Self.plaintext, Data(Self.plaintext.utf8).base64EncodedString()]
        let lines = logs.all
        #expect(lines.count > 20)
        #expect(lines.contains { $0.contains("Decrypted SOPS objects in memory") })
        #expect(answers.contains { $0.contains("MAC mismatch") || $0.contains("no age identity") })
        let notes = notifications.map { "\($0)" }
        #expect(notes.contains { $0.contains("no age identity") })
        var files = 0
        var leaks: [String] = []
        var texts: [(String, String)] = Self.texts(under: roots, files: &files)
        texts += lines.map { ("log", $0) }
        texts += answers.map { ("status API", $0) }
        texts += notes.map { ("notification", $0) }
        for (name, text) in texts where needles.contains(where: { text.contains($0) }) {
            leaks.append(name)
        }
        #expect(files > 3)
        #expect(leaks.isEmpty, "plaintext found in: \(leaks.prefix(5))")
        print(
            "plaintext scan: \(lines.count) log lines, \(answers.count) status answers and objects, "
                + "\(notes.count) notifications, \(files) files (SQLite database and WAL, git cache) searched; "
                + "plaintext found in \(leaks.count)")
    }

    /// The bytes of every file under `roots`, decoded as text (binary files too: the needles are ASCII).
    static func texts(under roots: [String], files: inout Int) -> [(String, String)] {
        var texts: [(String, String)] = []
        for root in roots {
            let enumerator = FileManager.default.enumerator(atPath: root)
            while let relative = enumerator?.nextObject() as? String {
                let path = "\(root)/\(relative)"
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                files += 1
                texts.append((path, String(decoding: data, as: UTF8.self)))
            }
        }
        return texts
    }

    private func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<300 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

/// A plain ConfigMap beside the Secret.
enum TestConfigMap {
    static let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: default\ndata:\n  k: v\n"
}
