import Foundation
import Testing
import WherryController
import WherryKube
import WherryModel
import WherryTesting

@Suite("Appliers other than the native one")
struct ApplyerTests {
    private static let objects = [
        KubeObject(body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": "default"]]),
        KubeObject(body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]]),
    ]

    /// A `nokube` stand-in: `--help` works, `apply` saves its arguments and input beside itself and exits with
    /// `$NOKUBE_EXIT` (or sleeps when told to).
    private static func fakeNokube(exit code: Int = 0, sleep seconds: Int = 0) -> String {
        """
        #!/bin/sh
        if [ "$1" = "--help" ]; then echo "nokube help"; exit 0; fi
        dir=$(dirname "$0")
        echo "$@" > "$dir/args"
        cat > "$dir/input"
        \(seconds > 0 ? "sleep \(seconds)" : "")
        if [ \(code) -ne 0 ]; then echo "cluster home is unreachable" >&2; fi
        exit \(code)

        """
    }

    @Test("nokube: downloaded once, checksum checked, runs; apply pipes YAML; failures carry the output")
    func nokube() async throws {
        try await RecordingHTTPServer.withServer { server, base in
            let state = try TemporaryDirectory(prefix: "state")
            defer { state.remove() }
            let script = Array(Self.fakeNokube().utf8)
            server.serve(script)
            let good = Digest.sha256Hex(script)
            // A wrong checksum: nothing is installed.
            let wrong = NokubeApplyer(
                config: NokubeApplyerConfig(
                    clusterName: "home", downloadURL: base + "/bin/nokube", sha256: String(repeating: "0", count: 64)),
                stateDirectory: state.path)
            let mismatch = try await #require(throws: ApplyerError.self) { try await wrong.install() }
            #expect(mismatch.description.contains("has SHA-256 \(good), not the 0000"), "\(mismatch)")
            #expect(!FileManager.default.fileExists(atPath: state.path + "/bin/nokube"))
            // The right one: installed, and not downloaded again.
            let applyer = NokubeApplyer(
                config: NokubeApplyerConfig(clusterName: "home", downloadURL: base + "/bin/nokube", sha256: good),
                stateDirectory: state.path)
            try await applyer.install()
            try await applyer.install()
            #expect(server.requests.filter { $0.path == "/bin/nokube" }.count == 2)
            let changes = try await applyer.apply(Self.objects, service: "web", dryRun: false)
            #expect(
                changes.entries.map(\.description) == ["Namespace/team configured", "ConfigMap/default/a configured"])
            let arguments = try String(contentsOfFile: state.path + "/bin/args", encoding: .utf8)
            #expect(arguments == "apply --cluster home\n")
            let input = try String(contentsOfFile: state.path + "/bin/input", encoding: .utf8)
            #expect(input.contains("kind: Namespace") && input.contains("kind: ConfigMap"))
            #expect(input.range(of: "kind: Namespace")!.lowerBound < input.range(of: "kind: ConfigMap")!.lowerBound)
        }
    }

    @Test("nokube: a non-zero exit reports the output; a hung nokube is stopped at the timeout")
    func nokubeFailures() async throws {
        let state = try TemporaryDirectory(prefix: "state")
        defer { state.remove() }
        let binary = state.path + "/bin/nokube"
        try FileManager.default.createDirectory(atPath: state.path + "/bin", withIntermediateDirectories: true)
        let config = NokubeApplyerConfig(clusterName: "home", downloadURL: "http://127.0.0.1:1/never")
        FileManager.default.createFile(
            atPath: binary, contents: Data(Self.fakeNokube(exit: 3).utf8), attributes: [.posixPermissions: 0o755])
        let failing = NokubeApplyer(config: config, stateDirectory: state.path)
        try await failing.install()
        let failed = try await #require(throws: ApplyerError.self) {
            try await failing.apply(Self.objects, service: "web", dryRun: false)
        }
        #expect(failed.description.contains("exited 3: cluster home is unreachable"), "\(failed)")
        try FileManager.default.removeItem(atPath: binary)
        FileManager.default.createFile(
            atPath: binary, contents: Data(Self.fakeNokube(sleep: 30).utf8), attributes: [.posixPermissions: 0o755])
        let hung = NokubeApplyer(config: config, stateDirectory: state.path, timeout: .seconds(1))
        let started = ContinuousClock.now
        let timedOut = try await #require(throws: ApplyerError.self) {
            try await hung.apply(Self.objects, service: "web", dryRun: false)
        }
        #expect(timedOut.description.contains("did not finish within"), "\(timedOut)")
        #expect(timedOut.isTransient)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("kubectl: applies to the cluster with server-side apply and field manager wherry")
    func kubectl() async throws {
        try await FakeAPIServer.withServer { server in
            let work = try TemporaryDirectory(prefix: "kubectl")
            defer { work.remove() }
            let kubeconfig = try work.write(
                "kubeconfig",
                """
                apiVersion: v1
                kind: Config
                clusters: [{name: fake, cluster: {server: "\(server.baseURL)"}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: fake, context: {cluster: fake, user: u}}]
                current-context: fake
                """)
            let applyer = KubectlApplyer(kubeconfig: kubeconfig)
            try await applyer.install()
            let changes = try await applyer.apply(Self.objects, service: "web", dryRun: false)
            #expect(changes.entries.count == 2)
            let stored = try #require(server.object(resource: "configmaps", namespace: "default", name: "a"))
            #expect(stored["metadata"]?["managedFields"]?.arrayValue?.first?["manager"] == "wherry")
            #expect(server.object(resource: "namespaces", name: "team") != nil)
            let invalid = KubeObject(body: [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "bad", "namespace": "nowhere"],
            ])
            let failed = try await #require(throws: ApplyerError.self) {
                try await applyer.apply([invalid], service: "web", dryRun: false)
            }
            #expect(failed.description.contains("kubectl apply failed for service web"), "\(failed)")
        }
    }
}
