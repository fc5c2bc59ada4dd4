import Foundation
import Testing
import WherryModel
import WherryTesting

@Suite("wherry render and validate, run as a user would")
struct RenderCommandTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          namespace: web
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: api
                  image: nginx:1.27
        """

    /// A remote with two services' manifests and a config pointing at it.
    private func setUp(
        token: String? = nil, url: String? = nil
    ) async throws -> (GitRemoteFixture, TemporaryDirectory, String) {
        let remote = try await GitRemoteFixture()
        try await remote.commit([
            "apps/web/deployment.yaml": Self.deployment,
            "apps/web/cm.yaml":
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: web\ndata:\n  enabled: \"on\"\n",
            "apps/db/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: db\n",
        ])
        let work = try TemporaryDirectory(prefix: "cli")
        let tokenLine = token.map { "    token: \"\($0)\"\n" } ?? ""
        let config = try work.write(
            "gitops-config.yaml",
            """
            github_configs:
              site:
                repo_owner: org
                repo_name: site
                url: \(url ?? remote.fileURL)
            \(tokenLine)services:
              - name: web
                github: site
                k8s_yaml_dir: apps/web
              - name: db
                github: site
                k8s_yaml_dir: apps/db
            """)
        return (remote, work, config)
    }

    @Test("render prints every service's objects with Wherry's labels")
    func renderAll() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        let out = try await CLI.run(["render", "--config", config, "--state-dir", work.path + "/state"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stderr.isEmpty)
        #expect(out.stdout.contains("kind: Deployment"))
        #expect(out.stdout.contains("  enabled: \"on\""))
        #expect(out.stdout.contains("    app.kubernetes.io/managed-by: wherry\n    wherry.dev/service: web"))
        #expect(out.stdout.contains("    wherry.dev/service: db"))
        #expect(out.stdout.contains("# Source: apps/web/deployment.yaml:1:1"))
    }

    @Test("render prints in apply order: Namespaces and CRDs first across services, file order otherwise")
    func applyOrder() async throws {
        let remote = try await GitRemoteFixture()
        try await remote.commit([
            "one/a-deploy.yaml": Self.deployment,
            "one/b-cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zz\n  namespace: web\n",
            "one/c-cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aa\n  namespace: web\n",
            "one/z-ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
            "two/crd.yaml":
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
        ])
        let work = try TemporaryDirectory(prefix: "cli")
        defer { remote.remove(); work.remove() }
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: one, github: r, k8s_yaml_dir: one}\n"
                + "  - {name: two, github: r, k8s_yaml_dir: two}\n")
        let out = try await CLI.run(["render", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let kinds = out.stdout.split(separator: "\n").filter { $0.hasPrefix("kind: ") || $0.hasPrefix("  name: ") }
            .map(String.init)
        #expect(
            kinds == [
                "kind: CustomResourceDefinition", "  name: widgets.example.com", "kind: Namespace", "  name: web",
                "kind: ConfigMap", "  name: zz", "kind: ConfigMap", "  name: aa", "kind: Deployment", "  name: api",
            ], "\(out.stdout)")
        #expect(out.stdout.hasPrefix("# Service two: "), "\(out.stdout)")
        let json = try await CLI.run(["render", "-c", config, "--state-dir", work.path + "/s", "-o", "json"])
        let items = try JSONValue.parse(json.stdout)["items"]?.arrayValue ?? []
        #expect(
            items.map { $0["kind"]?.stringValue ?? "" } == [
                "CustomResourceDefinition", "Namespace", "ConfigMap", "ConfigMap", "Deployment",
            ])
    }

    @Test("a relative --state-dir is taken from the working directory, where git finds it too")
    func relativeStateDirectory() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        let out = try await CLI.run(["render", "--config", config, "--state-dir", "state"], in: work.path)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("kind: Deployment"))
        #expect(FileManager.default.fileExists(atPath: work.path + "/state"))
    }

    @Test("render --service picks one service; an unknown one is a usage error with a suggestion")
    func renderOne() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        let state = work.path + "/state"
        let one = try await CLI.run(["render", "-c", config, "--state-dir", state, "--service", "db"])
        #expect(one.exitCode == 0)
        #expect(one.stdout.contains("kind: Namespace"))
        #expect(!one.stdout.contains("kind: Deployment"))
        let unknown = try await CLI.run(["render", "-c", config, "--state-dir", state, "--service", "wbe"])
        #expect(unknown.exitCode == 2)
        #expect(unknown.stderr.contains("no service named 'wbe'"))
        #expect(unknown.stderr.contains("did you mean 'web'?"))
    }

    @Test("render --output json prints a v1 List")
    func renderJSON() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        let out = try await CLI.run(["render", "-c", config, "--state-dir", work.path + "/s", "-o", "json"])
        #expect(out.exitCode == 0)
        let list = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        #expect(list?["kind"] as? String == "List")
        #expect((list?["items"] as? [Any])?.count == 3)
    }

    @Test("a broken manifest fails that service with file:line, exit 1, and still renders the others")
    func renderFailure() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        try await remote.commit(["apps/db/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n"])
        let out = try await CLI.run(["render", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("service db: render failed:"))
        #expect(out.stderr.contains("apps/db/bad.yaml:4:3: document 1: missing 'metadata.name'"))
        #expect(out.stderr.contains("1 of 2 services failed to render"))
        #expect(out.stdout.contains("wherry.dev/service: web"))
    }

    @Test("a YAML alias bomb fails only its service, with its location, and quickly")
    func aliasBomb() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        var bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 lol\n"
        for level in 1...9 {
            bomb +=
                "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
                + "]\n"
        }
        try await remote.commit(["apps/db/bomb.yaml": bomb])
        let out = try await CLI.run(["render", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("service db: render failed:"))
        #expect(out.stderr.contains("apps/db/bomb.yaml:"))
        #expect(out.stderr.contains("billion laughs"))
        #expect(out.stdout.contains("wherry.dev/service: web"))
    }

    @Test("an invalid config exits 2 with every error located, and nothing is rendered")
    func invalidConfig() async throws {
        let work = try TemporaryDirectory(prefix: "cli")
        defer { work.remove() }
        let config = try work.write(
            "gitops-config.yaml", "services:\n  - name: a\n    github: nope\n    k8s_yml_dir: x\npoll_interval: -5\n")
        let out = try await CLI.run(["render", "-c", config])
        #expect(out.exitCode == 2)
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.contains("\(config):3:5: error: 'nope' is not a key of github_configs"))
        #expect(
            out.stderr.contains(
                "\(config):4:5: error: unknown key 'services[0].k8s_yml_dir' (did you mean 'k8s_yaml_dir'?)"))
        #expect(out.stderr.contains("\(config):5:16: error: 'poll_interval' must be positive"))
        #expect(out.stderr.contains("4 errors; nothing was done"))
    }

    @Test("validate reports each service and exits 0 when all is well")
    func validate() async throws {
        let (remote, work, config) = try await setUp()
        defer { remote.remove(); work.remove() }
        let out = try await CLI.run(["validate", "-c", config, "--state-dir", work.path + "/s"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("config valid (1 repository, 2 services, 0 warnings)"))
        #expect(out.stdout.contains("service web: 2 objects read, syntax valid at org/site@"))
        #expect(out.stderr.contains("syntax only: types and unknown fields are checked by the API server"))
        let configOnly = try await CLI.run(["validate", "-c", config, "--config-only"])
        #expect(configOnly.exitCode == 0)
        #expect(!configOnly.stdout.contains("service web"))
    }

    @Test("an inline token works over HTTP, draws a warning, and never appears in any output")
    func inlineTokenNeverPrinted() async throws {
        let token = "ghp_CLItoken0123456789abcdef"
        let remote = try await GitRemoteFixture()
        defer { remote.remove() }
        try await remote.commit(["apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"])
        try await GitHTTPServer.withServer(projectRoot: remote.root.path, token: token) { base, _ in
            let (_, work, config) = try await setUp(token: token, url: "\(base)/\(remote.name).git")
            defer { work.remove() }
            for arguments in [
                ["render", "-c", config, "--service", "web", "--state-dir", work.path + "/s", "--log-level", "trace"],
                [
                    "validate", "-c", config, "--state-dir", work.path + "/s", "--log-level", "debug", "--log-format",
                    "json",
                ],
            ] {
                let out = try await CLI.run(arguments)
                #expect(!out.all.contains(token))
                #expect(out.stderr.contains("keeps a secret in the config file"))
                #expect(out.stderr.contains("token_env"))
            }
            let rendered = try await CLI.run([
                "render", "-c", config, "--service", "web", "--state-dir", work.path + "/s",
            ])
            #expect(rendered.exitCode == 0, "\(rendered.stderr)")

            // A wrong token fails authentication; neither token shows.
            let wrong = "ghp_WRONGtoken0000000000000"
            let config2 = try work.write(
                "wrong.yaml",
                try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: token, with: wrong))
            let failed = try await CLI.run([
                "render", "-c", config2, "--service", "web", "--state-dir", work.path + "/s2",
            ])
            #expect(failed.exitCode == 1)
            #expect(failed.stderr.contains("service web: git failed"))
            #expect(!failed.all.contains(wrong))
            #expect(!failed.all.contains(token))
        }
    }

    @Test("a token from the environment is used and never printed")
    func tokenFromEnvironment() async throws {
        let token = "ghp_ENVtoken0123456789abcdef"
        let remote = try await GitRemoteFixture()
        let work = try TemporaryDirectory(prefix: "cli")
        defer { remote.remove(); work.remove() }
        try await remote.commit(["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"])
        try await GitHTTPServer.withServer(projectRoot: remote.root.path, token: token) { base, log in
            let config = try work.write(
                "c.yaml",
                "github_configs:\n  r:\n    url: \(base)/\(remote.name).git\n    token_env: SITE_TOKEN\nservices:\n  - {name: s, github: r, k8s_yaml_dir: k8s}\n"
            )
            let out = try await CLI.run(
                ["render", "-c", config, "--state-dir", work.path + "/s", "--log-level", "trace"],
                environment: ["SITE_TOKEN": token])
            #expect(out.exitCode == 0, "\(out.stderr)")
            #expect(!out.all.contains(token))
            #expect(log.requests.allSatisfy { $0.authorized })
            let missing = try await CLI.run(
                ["render", "-c", config, "--state-dir", work.path + "/s"], environment: ["SITE_TOKEN": nil])
            #expect(missing.exitCode == 1)
            #expect(missing.stderr.contains("environment variable SITE_TOKEN (token_env of 'r') is not set"))
        }
    }

    @Test("help, version and usage errors")
    func helpAndUsage() async throws {
        let help = try await CLI.run(["--help"])
        #expect(help.exitCode == 0)
        for command in ["render", "validate", "version"] { #expect(help.stdout.contains(command)) }
        let version = try await CLI.run(["version"])
        #expect(version.exitCode == 0)
        #expect(version.stdout.hasPrefix("wherry "))
        let bad = try await CLI.run(["render", "--no-such-flag"])
        #expect(bad.exitCode == 2)
        #expect(bad.stderr.contains("--no-such-flag"))
        let missing = try await CLI.run(["render", "--config", "/nonexistent/gitops-config.yaml"])
        #expect(missing.exitCode == 2)
        #expect(missing.stderr.contains("config file does not exist"))
    }

    @Test("the README's first command renders the bundled example from this repository")
    func readmeExample() async throws {
        let state = try TemporaryDirectory(prefix: "readme")
        defer { state.remove() }
        let out = try await CLI.run(
            ["render", "--config", "examples/gitops-config.yaml", "--state-dir", state.path], in: CLI.packageRoot)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("# Service shop: wherry-dev/wherry@"))
        #expect(out.stdout.contains("name: staging-web"))
        #expect(out.stdout.contains("defaultMode: 420"))
    }
}
