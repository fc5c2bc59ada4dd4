import Testing
import WherryController
import WherryGit
import WherryModel
import WherryTesting

@Suite("Rendering a configured service from Git")
struct ServiceRendererTests {
    private func config(_ remote: GitRemoteFixture, directory: String = "k8s") throws -> WherryConfig {
        let text = """
            github_configs:
              r: {url: \(remote.fileURL), repo_owner: o, repo_name: n}
            services:
              - {name: shop, github: r, k8s_yaml_dir: \(directory)}
            """
        return try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
    }

    @Test("reads the branch head, renders, labels, and reports commit and tree")
    func renders() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let commit = try await remote.commit(["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"])
        let config = try config(remote)
        let renderer = ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path))
        let result = try await renderer.render(config.services[0], in: config)
        #expect(result.commit == commit)
        // The directory's tree id, then the digest of the rest the render reads.
        #expect(result.treeHash.count == 40 + 1 + 16)
        #expect(result.objects.map(\.ref.description) == ["ConfigMap/a"])
        #expect(result.objects[0].labels[WherryLabels.service] == "shop")
        #expect(result.objects[0].labels[WherryLabels.managedBy] == "wherry")

        // Another directory changing leaves this service's digest alone.
        try await remote.commit(["other/x.yaml": "a: 1\n"])
        let again = try await renderer.render(config.services[0], in: config)
        #expect(again.commit != commit)
        #expect(again.treeHash == result.treeHash)
    }

    @Test("a k8s_yaml_dir missing from the commit is a git-step error naming it")
    func missingDirectory() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        try await remote.commit(["k8s/cm.yaml": "a: 1\n"])
        let config = try config(remote, directory: "deploy/prod")
        let error = try await #require(throws: ServiceRenderError.self) {
            try await ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)).render(
                config.services[0], in: config)
        }
        #expect(error.step == .git)
        #expect(!error.isTransient)
        #expect(error.description.contains("k8s_yaml_dir: 'deploy/prod' does not exist at commit"))
    }

    @Test("services on one repository share one ls-remote and one fetch, and keep their order")
    func renderAllShares() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        try await remote.commit([
            "a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            "b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        ])
        try await GitHTTPServer.withServer(projectRoot: remote.root.path) { base, log in
            let text = """
                github_configs:
                  r: {url: \(base)/\(remote.name).git}
                services:
                  - {name: first, github: r, k8s_yaml_dir: a}
                  - {name: second, github: r, k8s_yaml_dir: b}
                  - {name: broken, github: r, k8s_yaml_dir: missing}
                """
            let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
            let git = GitCLISource(cacheDirectory: cache.path)
            let results = await ServiceRenderer(git: git).renderAll(config.services, in: config)
            #expect(try results[0].get().objects.map(\.name) == ["a"])
            #expect(try results[1].get().objects.map(\.name) == ["b"])
            #expect(throws: ServiceRenderError.self) { try results[2].get() }
            #expect(await git.fetchCount == 1)
            // One ls-remote and one fetch: each starts with one GET of info/refs.
            #expect(log.requests.filter { $0.path.hasSuffix("/info/refs") }.count == 2)
        }
    }
}

@Suite("The seed's features in a rendered service")
struct SeedFeatureRenderTests {
    @Test("config_dir becomes <service>-config; a config change changes the tree id and rolls the pods that use it")
    func configDirectory() async throws {
        let remote = try await GitRemoteFixture()
        let cache = try TemporaryDirectory(prefix: "cache")
        defer { remote.remove(); cache.remove() }
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: nginx, command: [nginx]}]}
            """
        let other = deployment.replacing("name: web}", with: "name: other}")
        try await remote.commit([
            "deploy/web.yaml": deployment, "deploy/other.yaml": other, "configs/app.json": "{\"port\": 1}\n",
        ])
        let text = """
            github_configs:
              r: {url: \(remote.fileURL)}
            download_base_url: http://artifacts.example:8080
            services:
              - {name: web, github: r, k8s_yaml_dir: deploy, config_dir: configs, stateless: {command: keep}}
            """
        let config = try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
        let renderer = ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path))
        let first = try await renderer.render(config.services[0], in: config)
        let configMap = try #require(first.objects.first { $0.kind == "ConfigMap" })
        #expect(configMap.name == "web-config")
        #expect(configMap.labels[WherryLabels.service] == "web")
        let hash = try #require(configMap.annotations["wherry.dev/config-hash"])
        // Both Deployments are stateless, so both mount web-config and carry its hash.
        for object in first.objects where object.kind == "Deployment" {
            #expect(
                object.body["spec"]?["template"]?["metadata"]?["annotations"]?["wherry.dev/config-hash"]
                    == .string(hash))
            let env =
                object.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
            #expect(env.contains { $0["value"] == "http://artifacts.example:8080" })
        }
        try await remote.commit(["configs/app.json": "{\"port\": 2}\n"])
        let second = try await renderer.render(config.services[0], in: config)
        #expect(second.treeHash != first.treeHash)
        let newHash = second.objects.first { $0.kind == "ConfigMap" }?.annotations["wherry.dev/config-hash"]
        #expect(newHash != hash)
        // A stateless service without a download URL is a config error.
        let missing = text.replacing("download_base_url: http://artifacts.example:8080\n", with: "")
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.parse(missing, file: "c.yaml", baseDirectory: "/")
        }
        #expect(error.description.contains("is stateless but has no http(s) download_base_url"))
    }
}
