import Testing
import WherryController
import WherryModel

@Suite("Loading gitops-config.yaml")
struct ConfigLoaderTests {
    private func load(_ text: String) throws -> LoadedConfig {
        try ConfigLoader.parse(text, file: "gitops-config.yaml", baseDirectory: "/configs")
    }

    private func errors(_ text: String) throws -> [String] {
        let error = try #require(throws: ConfigError.self) { try load(text) }
        return error.issues.map(\.description)
    }

    @Test("the seed README's config loads unchanged")
    func seedReadme() throws {
        let text = """
            # GitHub仓库配置（键值映射，服务通过 key 引用）
            github_configs:
              nokube:
                repo_owner: "AI-Infra-Team"
                repo_name: "nokube"
                branch: "main"
                token: "ghp_your_token_here"

            services:
              - name: etcd
                github: nokube
                k8s_yaml_dir: examples/etcd
              - name: monitoring
                github: nokube
                k8s_yaml_dir: examples/monitoring

            poll_interval: 60
            """
        let loaded = try load(text)
        let config = loaded.config
        #expect(config.repositories.map(\.key) == ["nokube"])
        let repository = try #require(config.repositories.first)
        #expect(repository.url == "https://github.com/AI-Infra-Team/nokube.git")
        #expect(repository.branch == "main")
        #expect(repository.displayName == "AI-Infra-Team/nokube")
        #expect(config.services.map(\.name) == ["etcd", "monitoring"])
        #expect(config.services[1].directory == "examples/monitoring")
        #expect(config.services[0].prune)
        #expect(config.pollInterval == 60)
        // The inline token works, with a warning that says how to move it.
        #expect(repository.token == .inline(Secret("ghp_your_token_here")))
        #expect(loaded.warnings.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.location == SourceLocation(file: "gitops-config.yaml", line: 7, column: 5))
        #expect(warning.hint?.contains("token_env") == true)
        #expect(!warning.description.contains("ghp_your_token_here"))
    }

    @Test("the older list form of github_configs, with and without key")
    func listForm() throws {
        let text = """
            github_configs:
              - key: app
                repo_owner: org
                repo_name: app
              - repo_owner: org
                repo_name: infra
                branch: prod
            services:
              - {name: a, github: app, k8s_yaml_dir: k8s}
              - {name: b, github: org/infra, k8s_yaml_dir: k8s}
            """
        let config = try load(text).config
        #expect(config.repositories.map(\.key) == ["app", "org/infra"])
        #expect(config.repositories[1].branch == "prod")
        #expect(config.repository(for: config.services[1])?.name == "infra")
    }

    @Test(
        "legacy repo: URLs work with or without .git and without a github_configs entry",
        arguments: ["https://github.com/org/site", "https://github.com/org/site.git", "https://github.com/org/site/"])
    func legacyRepo(url: String) throws {
        let config = try load("services:\n  - name: site\n    repo: \(url)\n    k8s_yaml_dir: deploy\n").config
        let repository = try #require(config.repository(for: config.services[0]))
        #expect(repository.owner == "org")
        #expect(repository.name == "site")
        #expect(repository.branch == "main")
        #expect(repository.url.hasSuffix("org/site.git"))
        #expect(repository.token == nil)
    }

    @Test("a legacy repo: URL takes branch and token from a matching github_configs entry")
    func legacyRepoMatches() throws {
        let text = """
            github_configs:
              main-repo:
                repo_owner: Org
                repo_name: Site
                branch: release
                token_env: SITE_TOKEN
            services:
              - name: site
                repo: https://github.com/org/site.git
                k8s_yaml_dir: deploy
            """
        let config = try load(text).config
        #expect(config.services[0].repository == "main-repo")
        #expect(config.repositories.count == 1)
    }

    @Test("Wherry's extensions: url, token_env, token_file, ssh, namespace, prune, suspend, interval")
    func extensions() throws {
        let text = """
            github_configs:
              local:
                url: ../repos/app
                branch: trunk
              private:
                repo_owner: org
                repo_name: secret
                token_file: secrets/token
              ssh:
                url: git@github.com:org/infra.git
                ssh_key_file: /keys/id_ed25519
                known_hosts_file: /keys/known_hosts
            services:
              - name: app
                github: local
                k8s_yaml_dir: ./k8s
                namespace: apps
                prune: false
                suspend: true
                interval: 5m
                depends_on: [infra]
                timeout: 90
                wait: true
              - name: infra
                github: ssh
                k8s_yaml_dir: clusters/prod
            poll_interval: 1h30m
            state_dir: state
            """
        let config = try load(text).config
        #expect(config.repositories[0].url == "/repos/app")
        #expect(config.repositories[0].displayName == "repos/app")
        #expect(config.repositories[1].token == .file("/configs/secrets/token"))
        #expect(config.repositories[2].url == "git@github.com:org/infra.git")
        #expect(config.repositories[2].sshKeyFile == "/keys/id_ed25519")
        let app = config.services[0]
        #expect(app.namespace == "apps")
        #expect(!app.prune)
        #expect(app.suspend)
        #expect(app.interval == 300)
        #expect(app.timeout == 90)
        #expect(app.wait)
        #expect(app.dependsOn == ["infra"])
        #expect(config.pollInterval == 5400)
        #expect(config.stateDirectory == "/configs/state")
    }

    @Test("unknown keys are errors with a did-you-mean hint and their location")
    func unknownKeys() throws {
        let text = """
            github_configs:
              r:
                repo_owner: o
                repo_name: n
                brnach: dev
            services:
              - name: a
                github: r
                k8s_yaml_directory: k8s
            pol_interval: 30
            """
        #expect(
            try errors(text) == [
                "gitops-config.yaml:5:5: error: unknown key 'github_configs.r.brnach' (did you mean 'branch'?)",
                "gitops-config.yaml:7:5: error: missing required key 'services[0].k8s_yaml_dir'",
                "gitops-config.yaml:9:5: error: unknown key 'services[0].k8s_yaml_directory' (did you mean 'k8s_yaml_dir'?)",
                "gitops-config.yaml:10:1: error: unknown key 'pol_interval' (did you mean 'poll_interval'?)",
            ])
    }

    @Test("missing required keys, wrong types and bad values are all reported together")
    func everyErrorKind() throws {
        let text = """
            github_configs:
              r:
                repo_owner: o
              other:
                repo_owner: o
                repo_name: x
                token: abcdefgh
                token_env: TOKEN
            services:
              - name: a
                github: rr
                k8s_yaml_dir: k8s
              - name: a
                github: other
                k8s_yaml_dir: /abs
                prune: "yes"
              - name: Bad Name
                k8s_yaml_dir: ../up
                namespace: Not_Valid
                depends_on: [ghost]
            poll_interval: 0
            webhook_url: ftp://example
            """
        let messages = try errors(text)
        let expected = [
            "gitops-config.yaml:3:5: error: missing required key 'github_configs.r.repo_name'",
            "gitops-config.yaml:5:5: error: 'github_configs.other' sets more than one of token, token_env and token_file (keep one)",
            "gitops-config.yaml:7:5: warning: 'github_configs.other.token' keeps a secret in the config file",
            "gitops-config.yaml:11:5: error: 'rr' is not a key of github_configs (did you mean 'r'?)",
            "gitops-config.yaml:13:5: error: service name 'a' is used twice (first at line 10; service names must be unique)",
            "gitops-config.yaml:15:5: error: 'k8s_yaml_dir' must be relative to the repository root, found '/abs' (drop the leading '/')",
            "gitops-config.yaml:16:12: error: 'services[1].prune' must be true or false, found a string",
            "gitops-config.yaml:17:5: error: 'services[2]' names no repository",
            "gitops-config.yaml:17:5: error: service name 'Bad Name' cannot be a Kubernetes label value",
            "gitops-config.yaml:18:5: error: 'k8s_yaml_dir' must stay inside the repository; remove '..'",
            "gitops-config.yaml:19:5: error: 'Not_Valid' is not a valid namespace name",
            "gitops-config.yaml:20:5: error: service 'Bad Name' depends on unknown service 'ghost'",
            "gitops-config.yaml:21:16: error: 'poll_interval' must be positive, found 0 (use at least 1)",
            "gitops-config.yaml:22:14: error: 'webhook_url' must be an http:// or https:// URL",
        ]
        #expect(messages.count == expected.count, "\(messages.joined(separator: "\n"))")
        for (message, prefix) in zip(messages, expected) {
            #expect(message.hasPrefix(prefix), "\(message)")
        }
        // The inline token's value never shows, even among errors.
        #expect(!messages.joined().contains("abcdefgh"))
    }

    @Test("a dependency cycle is refused")
    func cycle() throws {
        let text = """
            github_configs: {r: {repo_owner: o, repo_name: n}}
            services:
              - {name: a, github: r, k8s_yaml_dir: a, depends_on: [b]}
              - {name: b, github: r, k8s_yaml_dir: b, depends_on: c}
              - {name: c, github: r, k8s_yaml_dir: c, depends_on: [a]}
            """
        #expect(try errors(text).contains { $0.contains("depends_on forms a cycle: a -> b -> c -> a") })
    }

    @Test("YAML syntax errors and a non-map file are reported with their location")
    func badYAML() throws {
        #expect(try errors("services: [\n")[0].hasPrefix("gitops-config.yaml:2:1: error: invalid YAML"))
        #expect(
            try errors("- a\n- b\n") == [
                "gitops-config.yaml:1:1: error: the config must be a map of keys, found a list"
            ])
        #expect(
            try errors("services: {}\n") == [
                "gitops-config.yaml:1:11: error: 'services' must be a list of services, found a map"
            ])
    }

    @Test("the oldest target_files layout gets a pointer to the current one")
    func oldestSchema() throws {
        let messages = try errors("repo_owner: o\nrepo_name: n\ntarget_files: [a.yaml]\n")
        #expect(messages.count == 3)
        #expect(messages.allSatisfy { $0.contains("oldest Simple GitOps layout") })
    }

    @Test("an empty file loads with a warning that nothing is deployed")
    func emptyFile() throws {
        let loaded = try load("# nothing yet\n")
        #expect(loaded.config.services.isEmpty)
        #expect(loaded.config.pollInterval == 60)
        #expect(loaded.warnings.map(\.message) == ["no services are configured; nothing will be deployed"])
    }

    @Test("the old download_config.base_url still works, with a warning")
    func downloadConfig() throws {
        let loaded = try load("download_config:\n  base_url: https://releases.example.com\n")
        #expect(loaded.config.downloadBaseURL == "https://releases.example.com")
        #expect(loaded.warnings.contains { $0.message.contains("older spelling") })
    }

    @Test("applyer_nokube needs both of its keys")
    func nokube() throws {
        let ok = try load("applyer_nokube:\n  cluster_name: home\n  nokube_download_url: https://x/nokube\n").config
        #expect(ok.applyerNokube == NokubeApplyerConfig(clusterName: "home", downloadURL: "https://x/nokube"))
        #expect(
            try errors("applyer_nokube:\n  cluster_name: home\n") == [
                "gitops-config.yaml:2:3: error: missing required key 'applyer_nokube.nokube_download_url'"
            ])
    }

    @Test("tokens come from the environment or a file, and missing ones are errors naming the variable")
    func tokenResolution() throws {
        let text = """
            github_configs:
              env: {repo_owner: o, repo_name: a, token_env: APP_TOKEN}
              none: {repo_owner: o, repo_name: b}
            services: []
            """
        let config = try load(text).config
        let withToken = try config.repositories[0].gitRepository(environment: ["APP_TOKEN": "ghp_fromenv123"])
        #expect(withToken.credentials == .token("ghp_fromenv123"))
        #expect(!"\(withToken)".contains("ghp_fromenv123"))
        let missing = try #require(throws: ConfigError.self) {
            try config.repositories[0].gitRepository(environment: [:])
        }
        #expect(missing.description.contains("environment variable APP_TOKEN (token_env of 'env') is not set"))
        #expect(try config.repositories[1].gitRepository(environment: [:]).credentials == .none)
    }

    @Test("a missing config file says so and how to point at one")
    func missingFile() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(path: "/nonexistent/gitops-config.yaml")
        }
        #expect(
            error.description
                == "/nonexistent/gitops-config.yaml: error: config file does not exist (pass the path of your gitops-config.yaml with --config)"
        )
    }
}
