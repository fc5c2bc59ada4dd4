import Foundation
import ServiceLifecycle
import Synchronization
import Testing
import WherryController
import WherryGit
import WherryKube
import WherryModel
import WherryRender
import WherryTesting

/// Encrypted Secrets and signed commits through the reconciler and the loop, on real repositories and FakeAPIServer.
@Suite("Secrets in Git and trusted commits: reconciling")
struct SecretsReconcileTests {
    static let plaintext = "rec0ncile-Pl41ntext"

    static func secret(_ value: String, name: String = "db") -> String {
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \(name)\n  namespace: default\ntype: Opaque\n"
            + "stringData:\n  password: \(value)\n"
    }

    static func config(
        _ remote: GitRemoteFixture, repository extra: String, service: String = ""
    ) throws
        -> WherryConfig
    {
        let text = """
            poll_interval: 1
            github_configs:
              r: {url: \(remote.fileURL)\(extra)}
            services:
              - {name: app, github: r, k8s_yaml_dir: app, drift_interval: 0\(service)}
            """
        return try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
    }

    @Test("signed by a trusted key: applied; unsigned: refused, saying so, with the last verified state kept")
    func signedThenUnsigned() async throws {
        let signer = try await TestSigner.ssh(principal: "ops@wherry.invalid")
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            signer.directory.remove()
            remote.remove()
            cache.remove()
        }
        let allowed = try cache.write("allowed_signers", signer.trustEntry + "\n")
        let config = try Self.config(remote, repository: ", verify: {mode: head, allowed_signers_file: \(allowed)}")
        try await TestReconciler.withClient { api, server in
            let store = InMemoryStatusStore()
            let reconciler = TestReconciler.make(api: api, cache: cache, store: store)
            try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "1")], signedBy: signer)
            guard case .applied = await reconciler.reconcile(config.services[0], in: config, trigger: .poll) else {
                Issue.record("a commit signed by a trusted key was not applied")
                return
            }
            let unsigned = try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "2")])
            let outcome = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
            #expect(outcome.refusedCommit == unsigned)
            let status = try await store.status(of: "app")
            #expect(
                status?.lastError?.contains(
                    "commit \(unsigned.prefix(12)) on main is not signed by a trusted key (not signed)") == true)
            #expect(status?.lastResult == .failed)
            #expect(try await store.history(of: "app").first?.revision == unsigned)
            let live = server.object(resource: "configmaps", namespace: "default", name: "cm")
            #expect(live?["data"]?["k"] == "1")
        }
    }

    @Test("the loop does not retry a refused commit until the branch moves, and notifies once")
    func loopWaitsForNewCommit() async throws {
        let signer = try await TestSigner.ssh()
        let stranger = try await TestSigner.ssh(principal: "mallory@wherry.invalid")
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            signer.directory.remove()
            stranger.directory.remove()
            remote.remove()
            cache.remove()
        }
        let allowed = try cache.write("allowed_signers", signer.trustEntry + "\n")
        let config = try Self.config(remote, repository: ", verify: {mode: head, allowed_signers_file: \(allowed)}")
        try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "1")], signedBy: stranger)
        let notes = Mutex<[DeployNotification]>([])
        try await TestReconciler.withClient { api, server in
            let store = InMemoryStatusStore()
            let loop = ReconcileLoop(
                config: config, reconciler: TestReconciler.make(api: api, cache: cache, store: store),
                logger: TestReconciler.quiet, notify: { note in notes.withLock { $0.append(note) } })
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: TestReconciler.quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .failed })
                // Terminal at this head: no retry is scheduled, and polls of the same head are not new commits.
                let schedule = loop.schedules["app"]
                #expect(schedule?.failures == 1 && schedule?.retryAt == .infinity)
                #expect(
                    notes.withLock { $0 }.first?.error?.contains("not signed by a trusted key (signed by SHA256:")
                        == true)
                try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "2")], signedBy: signer)
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .succeeded })
                #expect(server.object(resource: "configmaps", namespace: "default", name: "cm")?["data"]?["k"] == "2")
                #expect(notes.withLock { $0 }.filter { !$0.succeeded }.count == 1)
                await group.triggerGracefulShutdown()
            }
        }
    }

    @Test("a refused commit force-pushed away, back to the commit last applied, ends the failure")
    func forcePushBackAfterRefusal() async throws {
        let signer = try await TestSigner.ssh()
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            signer.directory.remove()
            remote.remove()
            cache.remove()
        }
        let allowed = try cache.write("allowed_signers", signer.trustEntry + "\n")
        let config = try Self.config(remote, repository: ", verify: {mode: head, allowed_signers_file: \(allowed)}")
        try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "1")], signedBy: signer)
        try await TestReconciler.withClient { api, _ in
            let store = InMemoryStatusStore()
            let loop = ReconcileLoop(
                config: config, reconciler: TestReconciler.make(api: api, cache: cache, store: store),
                logger: TestReconciler.quiet)
            let group = ServiceGroup(services: [loop], gracefulShutdownSignals: [], logger: TestReconciler.quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .succeeded })
                try await remote.commit(["app/cm.yaml": TestReconciler.configMap("cm", "2")])
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .failed })
                // The unsigned commit is force-pushed away: the branch is back at the commit last applied.
                try await remote.git(["reset", "--quiet", "--hard", "HEAD~1"], in: remote.workPath)
                try await remote.git(
                    ["push", "--quiet", "--force", "origin", "HEAD:\(remote.branch)"], in: remote.workPath)
                #expect(
                    try await TestReconciler.eventually { try await store.status(of: "app")?.lastResult == .succeeded })
                #expect(loop.schedules["app"]?.failures == 0)
                await group.triggerGracefulShutdown()
            }
        }
    }

    /// Runs `body` with two age keys, a remote and a git cache, all removed afterwards.
    private func withKeys(
        _ body: (TestAgeKey, TestAgeKey, GitRemoteFixture, TemporaryDirectory) async throws -> Void
    ) async throws {
        let key = try await TestAgeKey()
        let other = try await TestAgeKey()
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer {
            key.remove()
            other.remove()
            remote.remove()
            cache.remove()
        }
        try await body(key, other, remote, cache)
    }

    @Test("a kustomize overlay holding an encrypted Secret is decrypted after the build, and applied")
    func kustomizeOverlay() async throws {
        try await withKeys { key, _, remote, cache in try await kustomizeOverlay(key, remote, cache) }
    }

    private func kustomizeOverlay(
        _ key: TestAgeKey, _ remote: GitRemoteFixture, _ cache: TemporaryDirectory
    )
        async throws
    {
        let encrypted = try await key.encrypt(Self.secret(Self.plaintext), macOnlyEncrypted: true)
        try await remote.commit([
            "base/secret.enc.yaml": encrypted,
            "base/kustomization.yaml": "resources: [secret.enc.yaml]\n",
            "app/kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\nnamespace: default\n",
        ])
        let config = try Self.config(remote, repository: ", decryption: {provider: sops, age_key_file: \(key.file)}")
        try await TestReconciler.withClient { api, server in
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            let outcome = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
            guard case .applied = outcome else {
                Issue.record("not applied: \(outcome)")
                return
            }
            let secret = server.object(resource: "secrets", namespace: "default", name: "prod-db")
            #expect(secret?["data"]?["password"]?.stringValue == Data(Self.plaintext.utf8).base64EncodedString())
            #expect(secret?["sops"] == nil)
        }
    }

    @Test("a file that cannot be decrypted fails its service, applies none of it, and other services go on")
    func failureIsContained() async throws {
        try await withKeys { key, other, remote, cache in try await failureIsContained(key, other, remote, cache) }
    }

    private func failureIsContained(
        _ key: TestAgeKey, _ other: TestAgeKey, _ remote: GitRemoteFixture, _ cache: TemporaryDirectory
    ) async throws {
        try await remote.commit([
            "app/secret.enc.yaml": try await other.encrypt(Self.secret(Self.plaintext)),
            "app/cm.yaml": TestReconciler.configMap("app-cm", "1"),
            "web/cm.yaml": TestReconciler.configMap("web-cm", "1"),
        ])
        let text = """
            github_configs:
              r: {url: \(remote.fileURL), decryption: {provider: sops, age_key_file: \(key.file)}}
            services:
              - {name: app, github: r, k8s_yaml_dir: app}
              - {name: web, github: r, k8s_yaml_dir: web}
            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        try await TestReconciler.withClient { api, server in
            let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
            guard case .failed(let error) = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
            else {
                Issue.record("a file for another key did not fail its service")
                return
            }
            #expect(
                error.description.contains(
                    "app/secret.enc.yaml:1:1: Secret/default/db: cannot be decrypted: no age identity matches any recipient"
                ))
            #expect(server.object(resource: "configmaps", namespace: "default", name: "app-cm") == nil)
            guard case .applied = await reconciler.reconcile(config.services[1], in: config, trigger: .poll) else {
                Issue.record("the other service did not go on")
                return
            }
        }
    }

    @Test("an API server error quoting a decrypted value reaches the status and the outcome masked")
    func serverEchoIsRedacted() async throws {
        try await withKeys { key, _, remote, cache in
            try await remote.commit(["app/secret.enc.yaml": try await key.encrypt(Self.secret(Self.plaintext))])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL), decryption: {provider: sops, age_key_file: \(key.file)}}
                services:
                  - {name: app, github: r, k8s_yaml_dir: app}
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            try await TestReconciler.withClient { api, server in
                // An admission webhook (say) refuses the Secret and quotes its value, in clear and as base64.
                let encoded = Data(Self.plaintext.utf8).base64EncodedString()
                server.failNext(
                    10, status: 422,
                    message: "admission webhook denied: value \"\(Self.plaintext)\" (\(encoded)) is weak"
                ) { $0.method == "PATCH" && $0.path.contains("/secrets/") }
                let store = InMemoryStatusStore()
                let reconciler = TestReconciler.make(api: api, cache: cache, store: store)
                guard
                    case .failed(let error) = await reconciler.reconcile(config.services[0], in: config, trigger: .poll)
                else {
                    Issue.record("the refused Secret did not fail its service")
                    return
                }
                #expect(error.description.contains("admission webhook denied: value \"***\""))
                let recorded = try await store.status(of: "app")?.lastError ?? ""
                for text in [error.description, recorded] {
                    #expect(!text.contains(Self.plaintext) && !text.contains(encoded))
                }
            }
        }
    }

    @Test("the CLI's path (syncAll, as sync, diff and validate --server use it) masks a quoted decrypted value too")
    func serverEchoIsRedactedInSyncAll() async throws {
        try await withKeys { key, _, remote, cache in
            try await remote.commit(["app/secret.enc.yaml": try await key.encrypt(Self.secret(Self.plaintext))])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL), decryption: {provider: sops, age_key_file: \(key.file)}}
                services:
                  - {name: app, github: r, k8s_yaml_dir: app}
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            try await TestReconciler.withClient { api, server in
                server.failNext(
                    10, status: 422, message: "admission webhook denied: value \"\(Self.plaintext)\" is weak"
                ) { $0.method == "PATCH" && $0.path.contains("/secrets/") }
                let reconciler = TestReconciler.make(api: api, cache: cache, store: InMemoryStatusStore())
                let outcomes = await reconciler.syncer.syncAll(config.services, in: config)
                guard case .failed(let error)? = outcomes.first else {
                    Issue.record("the refused Secret did not fail its service: \(outcomes)")
                    return
                }
                #expect(error.description.contains("admission webhook denied: value \"***\""))
                #expect(!error.description.contains(Self.plaintext))
            }
        }
    }

    @Test("a new age key changes the render digest (so a rotation is applied again); the digest hides the key")
    func keyRotationChangesDigest() async throws {
        try await withKeys { key, rotated, remote, cache in try await keyRotation(key, rotated, remote, cache) }
    }

    private func keyRotation(
        _ key: TestAgeKey, _ rotated: TestAgeKey, _ remote: GitRemoteFixture, _ cache: TemporaryDirectory
    ) async throws {
        try await remote.commit(["app/secret.enc.yaml": try await key.encrypt(Self.secret(Self.plaintext))])
        let config = try Self.config(remote, repository: ", decryption: {provider: sops, age_key_env: APP_AGE}")
        func digest(_ environment: [String: String]) async throws -> String {
            let renderer = ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path), environment: environment)
            return try await renderer.locate(config.services[0], in: config).treeHash
        }
        let first = try await digest(["APP_AGE": key.text])
        #expect(try await digest(["APP_AGE": key.text]) == first)
        let second = try await digest(["APP_AGE": rotated.text])
        #expect(second != first)
        // `<tree id>+<digest>`: nothing but hashes, so no part of the key can be in it.
        for text in [first, second] {
            let parts = text.split(separator: "+")
            #expect(parts.count == 2 && parts.allSatisfy { $0.allSatisfy { "0123456789abcdef".contains($0) } })
        }
        // Rendered for display, encrypted values are masked unless asked for.
        let renderer = ServiceRenderer(
            git: GitCLISource(cacheDirectory: cache.path), environment: ["APP_AGE": key.text])
        let rendered = try await renderer.render(config.services[0], in: config)
        let masked = rendered.displayObjects(showSecrets: false)[0].body["stringData"]?["password"]
        #expect(masked == "***")
        #expect(
            rendered.displayObjects(showSecrets: true)[0].body["stringData"]?["password"] == .string(Self.plaintext))
    }
}
