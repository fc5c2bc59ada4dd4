import Foundation
import Testing
import WherryModel
import WherryRender
import WherryTesting

@Suite("Rendering a k8s_yaml_dir")
struct ManifestRendererTests {
    private func configMap(_ name: String, namespace: String = "default") -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: \(namespace)\n"
    }

    @Test("walks directories recursively in byte order and reads only manifest files")
    func ordering() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("k8s/b.yaml", configMap("b"))
        try tree.write("k8s/a/z.yml", configMap("az"))
        try tree.write("k8s/B.json", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"upper"}}"#)
        try tree.write("k8s/a/notes.md", "not a manifest")
        try tree.write("k8s/.hidden/x.yaml", configMap("hidden"))
        try tree.write("k8s/c.yaml", configMap("c1") + "---\n" + configMap("c2"))
        let objects = try await ManifestRenderer().render(root: tree.path, directory: "./k8s/")
        #expect(objects.map(\.name) == ["upper", "az", "b", "c1", "c2"])
        #expect(objects[1].source == SourceLocation(file: "k8s/a/z.yml", line: 1, column: 1))
        #expect(objects[4].source?.line == 7)
    }

    @Test("rendering twice gives the same objects in the same order")
    func stable() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        for index in 0..<20 { try tree.write("d/f\(index).yaml", configMap("cm\(index)")) }
        let first = try await ManifestRenderer().render(root: tree.path, directory: "d")
        let second = try await ManifestRenderer().render(root: tree.path, directory: "d")
        #expect(first == second)
        #expect(first.map(\.name) == (0..<20).map { "cm\($0)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test("reports problems from every file, not only the first")
    func allErrors() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("d/1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
        try tree.write("d/2.yaml", "a: [1\n")
        try tree.write("d/3.yaml", configMap("fine"))
        let failure = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "d")
        }
        #expect(failure.issues.count == 2)
        #expect(failure.issues[0].description.hasPrefix("d/1.yaml:3:11: document 1: missing 'metadata.name'"))
        #expect(failure.issues[1].description.hasPrefix("d/2.yaml:"))
    }

    @Test("the same object defined twice names both places")
    func duplicates() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("d/a.yaml", configMap("same", namespace: "x"))
        try tree.write("d/b.yaml", configMap("same", namespace: "x"))
        let failure = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "d")
        }
        #expect(
            failure.description
                == "d/b.yaml:1:1: ConfigMap/x/same: defined twice (first defined at d/a.yaml:1:1); keep one definition")
    }

    @Test("a missing directory and a file instead of a directory are clear errors")
    func badDirectory() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("file.yaml", configMap("a"))
        let missing = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "nope")
        }
        #expect(missing.description == "nope: k8s_yaml_dir does not exist in the repository")
        let file = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "file.yaml")
        }
        #expect(file.description.contains("k8s_yaml_dir is a file"))
    }

    @Test("symbolic links may not lead out of the repository")
    func symlinkEscape() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        let outside = try TemporaryDirectory(prefix: "outside")
        defer { tree.remove(); outside.remove() }
        let secret = try outside.write("secret.yaml", configMap("stolen"))
        try tree.write("d/ok.yaml", configMap("ok"))
        try FileManager.default.createSymbolicLink(atPath: "\(tree.path)/d/link.yaml", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(atPath: "\(tree.path)/d/inside.yaml", withDestinationPath: "ok.yaml")
        let failure = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "d")
        }
        #expect(
            failure.issues.map(\.description) == [
                "d/link.yaml: symbolic link points outside the repository; Wherry only reads files from the repository"
            ])
    }

    @Test("a directory with a kustomization is built by kustomize")
    func kustomizeOverlay() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("base/kustomization.yaml", "resources:\n- cm.yaml\n")
        try tree.write(
            "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: \"on\"\n")
        try tree.write(
            "overlay/kustomization.yaml", "namespace: prod\nnamePrefix: prod-\nresources:\n- ../base\n")
        let objects = try await ManifestRenderer().render(root: tree.path, directory: "overlay")
        #expect(objects.map(\.ref.description) == ["ConfigMap/prod/prod-settings"])
        #expect(objects[0].body["data"]?["mode"] == "on")
        #expect(objects[0].source?.file == "overlay/kustomization.yaml")
    }

    @Test("a kustomization that reaches outside the repository is refused, also through its bases")
    func kustomizeOutsideRepository() async throws {
        let outer = try TemporaryDirectory(prefix: "render")
        defer { outer.remove() }
        try outer.write("secret/kustomization.yaml", "resources:\n- cm.yaml\n")
        try outer.write("secret/cm.yaml", configMap("secret"))
        try outer.write("repo/base/kustomization.yaml", "resources:\n- ../../secret\n")
        try outer.write("repo/overlay/kustomization.yaml", "resources:\n- ../base\n")
        let failure = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: "\(outer.path)/repo", directory: "overlay")
        }
        #expect(
            failure.issues.map(\.description) == [
                "base/kustomization.yaml: '../../secret' is outside the repository; Wherry only reads files from the "
                    + "repository"
            ])
    }

    @Test("a kustomization inside a plain directory is built in place")
    func nestedKustomization() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("d/a.yaml", configMap("plain"))
        try tree.write("d/k/kustomization.yaml", "namespace: k\nresources:\n- cm.yaml\n")
        try tree.write("d/k/cm.yaml", configMap("built"))
        let objects = try await ManifestRenderer().render(root: tree.path, directory: "d")
        #expect(objects.map(\.ref.description) == ["ConfigMap/default/plain", "ConfigMap/k/built"])
    }

    @Test("a failing kustomize build names the kustomization and kustomize's reason")
    func kustomizeFailure() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("k/kustomization.yaml", "resources:\n- missing.yaml\n")
        let failure = try await #require(throws: RenderFailure.self) {
            try await ManifestRenderer().render(root: tree.path, directory: "k")
        }
        #expect(failure.description.hasPrefix("k/kustomization.yaml: kustomize build failed:"))
        #expect(failure.description.contains("missing.yaml"))
        #expect(!failure.description.contains(tree.path))
    }

    @Test("a missing kubectl says to install it")
    func kubectlMissing() async throws {
        let tree = try TemporaryDirectory(prefix: "render")
        defer { tree.remove() }
        try tree.write("k/kustomization.yaml", "resources: []\n")
        let renderer = ManifestRenderer(kustomize: KustomizeBuilder(kubectl: "/nonexistent/kubectl"))
        let failure = try await #require(throws: RenderFailure.self) {
            try await renderer.render(root: tree.path, directory: "k")
        }
        #expect(failure.description.contains("install kubectl"))
    }
}
