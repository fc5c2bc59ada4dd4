import Foundation
import Testing
import WherryTesting

@Suite("A remote that refuses the credentials, said as such (git http-backend behind a 401)")
struct GitCredentialsTests {
    private func config(
        _ work: TemporaryDirectory, url: String, tokenLine: String, name: String = "gitops-config.yaml"
    ) throws -> String {
        try work.write(
            name,
            "github_configs:\n  site:\n    url: \(url)\n\(tokenLine)services:\n  - {name: web, github: site, k8s_yaml_dir: k8s}\n"
        )
    }

    @Test("a wrong token from token_env names the variable and HTTP 401, not git's prompt message; no token says so")
    func wrongToken() async throws {
        let remote = try await GitRemoteFixture()
        defer { remote.remove() }
        try await remote.commit(["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"])
        try await GitHTTPServer.withServer(projectRoot: remote.root.path, token: "right-token-123") { base, _ in
            let work = try TemporaryDirectory(prefix: "creds")
            defer { work.remove() }
            let url = "\(base)/\(remote.name).git"
            let withToken = try config(work, url: url, tokenLine: "    token_env: GH_TOKEN\n")
            let wrong = try await CLI.run(
                ["validate", "-c", withToken, "--state-dir", work.path + "/s"],
                environment: ["GH_TOKEN": "wrong-token-456"])
            #expect(wrong.exitCode == 1)
            #expect(
                wrong.stderr.contains(
                    "the remote refused the credentials from token_env GH_TOKEN (HTTP 401); check the token and its "
                        + "repository access"), "\(wrong.stderr)")
            #expect(!wrong.stderr.contains("terminal prompts disabled"), "\(wrong.stderr)")
            #expect(!wrong.all.contains("wrong-token-456"))
            #expect(wrong.stderr.contains("could not be read from Git"))
            let right = try await CLI.run(
                ["validate", "-c", withToken, "--state-dir", work.path + "/s"],
                environment: ["GH_TOKEN": "right-token-123"])
            #expect(right.exitCode == 0, "\(right.stderr)")
            let none = try config(work, url: url, tokenLine: "", name: "anonymous.yaml")
            let anonymous = try await CLI.run(["validate", "-c", none, "--state-dir", work.path + "/s2"])
            #expect(anonymous.exitCode == 1)
            #expect(
                anonymous.stderr.contains(
                    "the remote asks for credentials (HTTP 401) and repository site has none; set token_env or "
                        + "token_file on it"), "\(anonymous.stderr)")
            let check = try await CLI.run(
                ["check", "-c", withToken, "--state-dir", work.path + "/s", "--kubeconfig", work.path + "/none"],
                environment: ["GH_TOKEN": "wrong-token-456"])
            #expect(
                check.stdout.contains(
                    "✗ remote site \(url): the remote refused the credentials from token_env GH_TOKEN"),
                "\(check.stdout)")
        }
    }
}
