import Foundation
import Testing
public import WherryKube
import WherryModel
import WherryTesting

/// `wherry sync` killed with SIGKILL in the middle of an apply: what it wrote before dying is still pruned when Git
/// drops it. Runs the built binary against any API server (a fake or a real one) through `kubeconfig`.
public struct KillScenarios: Sendable {
    public let api: any KubeAPI
    public let kubeconfig: String
    public let namespace: String

    public init(api: any KubeAPI, kubeconfig: String, namespace: String) {
        self.api = api
        self.kubeconfig = kubeconfig
        self.namespace = namespace
    }

    /// The `wherry` binary of this build: next to the test bundle, else in `.build/debug`.
    public static let binary: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("wherry").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/wherry").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return beside
    }()

    /// A kubeconfig for an API server without TLS (a fake), written in `directory`.
    public static func kubeconfig(server: String, inDirectory directory: String) throws -> String {
        let path = directory + "/kubeconfig"
        try Data(
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "\(server)"}}]
            users: [{name: me, user: {token: kube-token-123456}}]
            contexts: [{name: fake, context: {cluster: fake, user: me}}]
            current-context: fake
            """.utf8
        ).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Deletes the scenario's namespaces.
    public func cleanUp() async {
        for name in [namespace, namespace + "-wherry"] {
            try? await api.delete("/api/v1/namespaces/\(name)", options: DeleteOptions())
        }
    }

    private func configMap(_ index: Int) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(index)}\ndata: {k: \"\(index)\"}\n"
    }

    private func sync(config: String, work: TemporaryDirectory, name: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "sync", "-c", config, "--kubeconfig", kubeconfig, "--namespace", namespace + "-wherry",
            "--allow-mass-prune",
        ]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: try work.write("\(name).out", "")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: try work.write("\(name).err", "")))
        try process.run()
        return process
    }

    private func written() async -> [String] {
        let items = (try? await api.list("/api/v1/namespaces/\(namespace)/configmaps", labelSelector: nil)) ?? []
        return items.compactMap { $0["metadata"]?["name"]?.stringValue }.filter { $0.hasPrefix("cm-") }
    }

    /// Kills `wherry sync` once some of 300 objects are written; a commit then removes one that was written, and
    /// the next sync deletes it.
    public func killedSyncStillPrunesWhatItWrote() async throws {
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "kill")
        defer {
            remote.remove()
            work.remove()
        }
        var files: [String: String?] = [:]
        for index in 0..<300 { files["app/cm-\(index).yaml"] = configMap(index) }
        try await remote.commit(files)
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n"
                + "  - {name: app, github: r, k8s_yaml_dir: app, namespace: \(namespace), create_namespace: true}\n")
        let first = try sync(config: config, work: work, name: "first")
        var victims: [String] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while first.isRunning, ContinuousClock.now < deadline {
            victims = await written()
            if victims.count >= 5 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try #require(!victims.isEmpty, "nothing was written before the kill")
        let killedEarly = first.terminationReason == .uncaughtSignal
        #expect(killedEarly, "the first sync ended before it was killed: the scenario proves nothing")
        let victim = victims.sorted()[0]
        // Git drops the object the killed sync wrote.
        try await remote.commit(["app/\(victim).yaml": nil])
        let second = try sync(config: config, work: work, name: "second")
        second.waitUntilExit()
        let output = (try? String(contentsOfFile: work.path + "/second.out", encoding: .utf8)) ?? ""
        #expect(second.terminationStatus == 0, "\(output)")
        #expect(output.contains("ConfigMap/\(namespace)/\(victim) deleted"), "killed mid-apply: \(killedEarly)")
        #expect(
            try await !api.list("/api/v1/namespaces/\(namespace)/configmaps", labelSelector: nil).contains {
                $0["metadata"]?["name"]?.stringValue == victim
            })
    }
}
