import Foundation
import Testing
import WherryController
import WherryGit
import WherryModel
import WherryScenarios
import WherryTesting

@Suite("The digest of everything a render reads")
struct RenderDigestTests {
    /// A repository, a renderer on it, and the digest of one of its directories.
    private struct Setup {
        let remote: GitRemoteFixture
        let cache: TemporaryDirectory
        let renderer: ServiceRenderer

        init() async throws {
            remote = try await GitRemoteFixture()
            cache = try TemporaryDirectory(prefix: "cache")
            renderer = ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path))
        }

        func digest(_ directory: String, extra: String = "") async throws -> String {
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                \(extra)services:
                  - {name: s, github: r, k8s_yaml_dir: \(directory)}
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            return try await renderer.locate(config.services[0], in: config).treeHash
        }

        func remove() {
            remote.remove()
            cache.remove()
        }
    }

    private static let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"

    @Test("the bundled overlay: an edit to ../base changes its digest, an edit elsewhere does not")
    func bundledExample() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit(try BundledExample.files())
        let config = try BundledExample.config(setup.remote)
        let staging = config.services[1]
        let first = try await setup.renderer.locate(staging, in: config)
        let shop = try await setup.renderer.locate(config.services[0], in: config)

        try await setup.remote.commit([
            "examples/shop/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"
        ])
        #expect(try await setup.renderer.locate(staging, in: config).treeHash == first.treeHash)
        #expect(try await setup.renderer.locate(config.services[0], in: config).treeHash != shop.treeHash)

        let deployment = try #require(try BundledExample.files()["examples/overlays/base/deployment.yaml"] ?? nil)
        try await setup.remote.commit([
            "examples/overlays/base/deployment.yaml": deployment.replacing("nginx:1.27", with: "nginx:1.28")
        ])
        let edited = try await setup.renderer.locate(staging, in: config)
        #expect(edited.treeHash != first.treeHash)
        // The overlay's own tree did not change; the digest still leads with it.
        #expect(edited.treeHash.prefix(40) == first.treeHash.prefix(40))
        let rendered = try await setup.renderer.render(edited)
        let web = try #require(rendered.objects.first { $0.kind == "Deployment" })
        #expect(ConvergenceScenarios.image(.object(web.body)) == "nginx:1.28")
    }

    @Test("components, patch files and generator files outside the directory count")
    func componentsPatchesGenerators() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit([
            "app/kustomization.yaml": """
            resources: [cm.yaml, ../bases/web]
            components: [../components/label]
            patches: [{path: ../patches/cm.yaml}]
            """,
            "app/cm.yaml": Self.configMap,
            "bases/web/kustomization.yaml": "configMapGenerator: [{name: web, files: [../../files/web.conf]}]\n",
            "components/label/kustomization.yaml": "kind: Component\npatches: [{path: label.yaml}]\n",
            "components/label/label.yaml": "a: 1\n",
            "patches/cm.yaml": "a: 1\n", "files/web.conf": "port 1\n", "files/unused": "x\n",
        ])
        var previous = try await setup.digest("app")
        for (path, content) in [
            ("components/label/label.yaml", "a: 2\n"), ("patches/cm.yaml", "a: 2\n"), ("files/web.conf", "port 2\n"),
            ("bases/web/kustomization.yaml", "resources: []\n"),
        ] {
            try await setup.remote.commit([path: content])
            let digest = try await setup.digest("app")
            #expect(digest != previous, "an edit of \(path) kept the digest")
            previous = digest
        }
        try await setup.remote.commit([
            "files/unused": "y\n", "components/other/kustomization.yaml": "kind: Component\n",
        ])
        #expect(try await setup.digest("app") == previous)
    }

    @Test("a symbolic link's target elsewhere in the repository counts")
    func symlinkTarget() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit(["app/cm.yaml": Self.configMap, "shared/b.yaml": Self.configMap])
        try FileManager.default.createSymbolicLink(
            atPath: "\(setup.remote.workPath)/app/b.yaml", withDestinationPath: "../shared/b.yaml")
        try await setup.remote.commit([:])
        let before = try await setup.digest("app")
        try await setup.remote.commit(["shared/b.yaml": Self.configMap.replacing("name: a", with: "name: b")])
        #expect(try await setup.digest("app") != before)
    }

    @Test("a remote resource turns the shortcut off: every call gives a new digest")
    func remoteResource() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit([
            "app/kustomization.yaml": "resources: [https://github.com/kubernetes-sigs/kustomize//examples/helloWorld]\n"
        ])
        let first = try await setup.digest("app")
        let second = try await setup.digest("app")
        #expect(first != second)
        #expect(first.contains("+unpinned-"))
    }

    @Test("a cycle of kustomizations is walked to its end (kustomize reports it when rendering)")
    func cycle() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit([
            "a/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources: [../a]\n",
        ])
        let before = try await setup.digest("a")
        try await setup.remote.commit(["b/kustomization.yaml": "resources: [../a]\nnamePrefix: x-\n"])
        #expect(try await setup.digest("a") != before)
    }

    @Test("settings that change the outcome change the digest")
    func settings() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await setup.remote.commit(["app/cm.yaml": Self.configMap])
        let plain = try await setup.digest("app")
        #expect(try await setup.digest("app") == plain)
        #expect(try await setup.digest("app", extra: "applyer: kubectl\n") != plain)
        // Wherry's version is part of it, so even a bare directory's digest is more than its tree id.
        #expect(plain.count == 40 + 1 + 16)
    }
}
