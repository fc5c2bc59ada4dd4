import Foundation
import Testing
import WherryModel
import WherryRender

@Suite("Stateless mutation")
struct StatelessMutationTests {
    private static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")

    private func read(_ name: String) throws -> String {
        try String(contentsOf: Self.golden.appendingPathComponent(name), encoding: .utf8)
    }

    private let mutation = StatelessMutation(service: "web", downloadBaseURL: "http://wherry.wherry-system:8080")

    @Test("golden: a Deployment gets the fetch init container, env, mounts and volumes; a Service is unchanged")
    func golden() throws {
        let before = try ManifestReader.objects(from: try read("stateless-before.yaml"), file: "before.yaml")
        let after = YAMLWriter.stream(mutation.apply(to: before))
        let path = Self.golden.appendingPathComponent("stateless-after.yaml")
        if ProcessInfo.processInfo.environment["WHERRY_UPDATE_GOLDEN"] != nil {
            try after.write(to: path, atomically: true, encoding: .utf8)
        }
        #expect(after == (try read("stateless-after.yaml")))
    }

    @Test("mutating twice is mutating once")
    func idempotent() throws {
        let before = try ManifestReader.objects(from: try read("stateless-before.yaml"), file: "before.yaml")
        let once = mutation.apply(to: before)
        #expect(mutation.apply(to: once) == once)
    }

    @Test("own commands are kept unless asked; the user's env and mount paths win")
    func commandsAndOverrides() throws {
        let before = try ManifestReader.objects(from: try read("stateless-before.yaml"), file: "before.yaml")
        let pod = try #require(mutation.apply(to: before)[1].body["spec"]?["template"]?["spec"])
        let server = try #require(pod["containers"]?.arrayValue?[0])
        let sidecar = try #require(pod["containers"]?.arrayValue?[1])
        #expect(server["command"] == ["/usr/local/bin/server"])
        #expect(server["args"] == ["--listen", ":8000"])
        #expect(sidecar["command"] == ["/bin/sh", "/app/init.sh"])
        let env = server["env"]?.arrayValue ?? []
        #expect(env.first { $0["name"] == "SERVICE_NAME" }?["value"] == "overridden-by-the-user")
        #expect(env.first { $0["name"] == "DOWNLOAD_BASE_URL" }?["value"] == "http://wherry.wherry-system:8080")
        let mounts = server["volumeMounts"]?.arrayValue ?? []
        #expect(mounts.filter { $0["mountPath"] == "/tmp" }.count == 1)
        #expect(mounts.first { $0["mountPath"] == "/etc/secret" }?["readOnly"] == true)
        let initContainers = pod["initContainers"]?.arrayValue ?? []
        #expect(initContainers.map { $0["name"] } == ["wherry-fetch"])
        #expect(initContainers[0]["command"]?.arrayValue?.last?.stringValue?.hasPrefix("set -eu\n") == true)
        var replaceAll = mutation
        replaceAll.command = .initScript
        let replaced = try #require(replaceAll.apply(to: before)[1].body["spec"]?["template"]?["spec"])
        #expect(replaced["containers"]?.arrayValue?[0]["command"] == ["/bin/sh", "/app/init.sh"])
        var keep = mutation
        keep.command = .keep
        let kept = try #require(keep.apply(to: before)[1].body["spec"]?["template"]?["spec"])
        #expect(kept["containers"]?.arrayValue?[1]["command"] == nil)
    }

    @Test("config files become one ConfigMap with a content hash; bad JSON names its file and line")
    func configFiles() throws {
        let handler = ConfigFilesHandler()
        let files = [
            SourceFile(path: "configs/app.json", name: "app.json", bytes: Array("{\"port\": 8000}\n".utf8)),
            SourceFile(path: "configs/blob.bin", name: "blob.bin", bytes: [0xff, 0x00, 0x01]),
        ]
        let object = try #require(try handler.objects(from: files, service: "web").first)
        #expect(object.name == "web-config")
        #expect(object.body["data"] == ["app.json": "{\"port\": 8000}\n"])
        #expect(object.body["binaryData"] == ["blob.bin": "/wAB"])
        let hash = try #require(object.annotations[ConfigFilesHandler.hashAnnotation])
        var changed = files
        changed[0].bytes = Array("{\"port\": 8001}\n".utf8)
        let other = try #require(try handler.objects(from: changed, service: "web").first)
        #expect(other.annotations[ConfigFilesHandler.hashAnnotation] != hash)
        let bad = [SourceFile(path: "configs/bad.json", name: "bad.json", bytes: Array("{\n  \"a\": ,\n}".utf8))]
        let error = try #require(throws: RenderFailure.self) { try handler.objects(from: bad, service: "web") }
        #expect(error.description.hasPrefix("configs/bad.json:2"), "\(error)")
        #expect(!handler.accepts("has space.json") && handler.accepts("app-settings.json"))
    }
}
