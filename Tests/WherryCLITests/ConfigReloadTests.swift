import Foundation
import Testing
import WherryModel
import WherryTesting

/// `wherry run` follows its config file: a mounted ConfigMap's symlink swap, and SIGHUP.
@Suite("wherry run: config reload")
struct ConfigReloadTests {
    @Test("a swapped config starts new services, reports removed ones orphaned, keeps running on an invalid one")
    func reload() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "reload")
            defer { remote.remove(); work.remove() }
            try await remote.commit([
                "shop/cm.yaml": ControlledWherry.configMap("1"),
                "extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
            ])
            let head = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
            let shop = "  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}\n"
            let extra = "  - {name: extra, github: r, k8s_yaml_dir: extra, namespace: default}\n"
            // The layout of a mounted ConfigMap: the file is a symlink through ..data, which is swapped.
            let mount = work.path + "/mount"
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            var version = 0
            func publish(_ text: String) throws {
                version += 1
                let directory = mount + "/..v\(version)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try text.write(toFile: directory + "/gitops-config.yaml", atomically: false, encoding: .utf8)
                let temporary = mount + "/..data_tmp"
                try? FileManager.default.removeItem(atPath: temporary)
                try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: "..v\(version)")
                #expect(rename(temporary, mount + "/..data") == 0)
            }
            try publish(head + shop)
            try FileManager.default.createSymbolicLink(
                atPath: mount + "/gitops-config.yaml", withDestinationPath: "..data/gitops-config.yaml")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", mount + "/gitops-config.yaml", "--kubeconfig", kubeconfig, "--state-dir",
                    work.path + "/state", "--listen", "127.0.0.1:0", "--log-level", "info",
                ],
                work: work, name: "reload")
            defer { wherry.kill() }
            func exists(_ name: String) -> Bool {
                server.object(resource: "configmaps", namespace: "default", name: name) != nil
            }
            func services() async throws -> JSONValue {
                let output = try await CLI.run(["status", "--server", "http://127.0.0.1:\(wherry.port)", "-o", "json"])
                return try JSONValue.parse(Array(output.stdout.utf8))
            }
            #expect(try await ControlledWherry.eventually { exists("shop") }, "\(wherry.stderr)")
            #expect(!exists("extra"))

            // A new service: started without a restart, and the status API lists it.
            try publish(head + shop + extra)
            #expect(try await ControlledWherry.eventually(20) { exists("extra") }, "\(wherry.stderr)")
            let names = try await services()["services"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["shop", "extra"])

            // An invalid config: logged with where the error is; the running config stays.
            try publish(head + shop + extra + "  - {name: broken, github: nope, k8s_yaml_dir: x}\n")
            #expect(
                try await ControlledWherry.eventually(20) {
                    wherry.stderr.contains("The new config has errors; the running config stays")
                }, "\(wherry.stderr)")
            #expect(wherry.stderr.contains("gitops-config.yaml:"), "\(wherry.stderr)")
            #expect(try await services()["count"] == .int(2))

            // SIGHUP reads it again at once, even when the file did not change.
            try publish(head + shop)
            kill(wherry.process.processIdentifier, SIGHUP)
            #expect(
                try await ControlledWherry.eventually(2) {
                    wherry.stderr.contains("Service removed from the config")
                }, "\(wherry.stderr)")
            // Removed: reported orphaned, its objects left in place.
            #expect(
                try await ControlledWherry.eventually(10) {
                    try await services()["orphaned"]?.arrayValue?.first?["service"] == .string("extra")
                })
            #expect(exists("extra"))
            #expect(try await services()["count"] == .int(1))

            // A changed service is applied again: an edit by hand is put back although Git did not move.
            var edited = try #require(server.object(resource: "configmaps", namespace: "default", name: "shop"))
            edited["data"] = ["value": "by-hand"]
            edited["metadata"]?["managedFields"] = nil
            _ = try server.put(edited)
            try publish(
                head + "  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default, drift_interval: 1h}\n")
            #expect(
                try await ControlledWherry.eventually(20) {
                    server.object(resource: "configmaps", namespace: "default", name: "shop")?["data"]?["value"] == "1"
                }, "\(wherry.stderr)")

            // SIGHUP alone reads the file again.
            #expect(!wherry.stderr.contains("Config read again: nothing changed"))
            kill(wherry.process.processIdentifier, SIGHUP)
            #expect(
                try await ControlledWherry.eventually(2) {
                    wherry.stderr.contains("Config read again: nothing changed")
                }, "\(wherry.stderr)")
            #expect(wherry.process.isRunning)
        }
    }

    @Test(
        "a start-only setting changed is named as needing a restart; a removed service's hint repeats -c and --namespace"
    )
    func startOnlyAndHint() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "reload-start")
            defer { remote.remove(); work.remove() }
            try await remote.commit(["shop/cm.yaml": ControlledWherry.configMap("1")])
            let head = "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
            let shop = "  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}\n"
            let extra = "  - {name: extra, github: r, k8s_yaml_dir: shop, namespace: other}\n"
            let path = work.path + "/gitops-config.yaml"
            try (head + shop + extra).write(toFile: path, atomically: true, encoding: .utf8)
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", path, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0", "--log-level", "info", "--namespace", "wherry-b",
                ],
                work: work, name: "reload-start")
            defer { wherry.kill() }
            #expect(
                try await ControlledWherry.eventually {
                    server.object(resource: "configmaps", namespace: "default", name: "shop") != nil
                }, "\(wherry.stderr)")
            try ("api_token_env: OTHER_TOKEN\n" + head + shop).write(toFile: path, atomically: true, encoding: .utf8)
            kill(wherry.process.processIdentifier, SIGHUP)
            #expect(
                try await ControlledWherry.eventually(5) {
                    wherry.stderr.contains("Service removed from the config")
                }, "\(wherry.stderr)")
            #expect(wherry.stderr.contains("read at start only"), "\(wherry.stderr)")
            #expect(wherry.stderr.contains("api_token_env"), "\(wherry.stderr)")
            #expect(!wherry.stderr.contains("nothing changed"), "\(wherry.stderr)")
            #expect(wherry.stderr.contains("--namespace wherry-b --service extra"), "\(wherry.stderr)")
            #expect(wherry.stderr.contains("wherry prune -c "), "\(wherry.stderr)")
        }
    }
}
