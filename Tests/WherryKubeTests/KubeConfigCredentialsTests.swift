import Foundation
import Testing
import WherryKube
import WherryModel
import WherryTesting

@Suite("Credentials: tokens, token files, basic auth and what is not supported")
struct KubeConfigCredentialsTests {
    private typealias Fixture = KubeConfigFixture

    private func resolve(user: String) throws -> KubeClientConfig {
        try KubeConfig.parse(Fixture.single("c", user: user), file: "/k/config", baseDirectory: "/k").clientConfig()
    }

    @Test("tokenFile keeps the path, and the current token is read again after the file changes")
    func tokenFileRotation() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("kube/token", "first-token\n")
        let file = try directory.write("kube/config", Fixture.single("c", user: "    tokenFile: token\n"))
        let config = try Fixture.loader(in: directory).load(explicitPath: file)
        guard case .bearerTokenFile(let tokenFile) = config.credentials else {
            Issue.record("expected a token file, got \(config.credentials)")
            return
        }
        #expect(tokenFile.path == "\(directory.path)/kube/token")
        #expect(try config.currentBearerToken()?.value == "first-token")
        try directory.write("kube/token", "  rotated-token\n")
        #expect(try config.currentBearerToken()?.value == "rotated-token")

        try FileManager.default.removeItem(atPath: tokenFile.path)
        let error = try #require(throws: KubeConfigError.self) { try config.currentBearerToken() }
        #expect(
            error.description.hasPrefix("\(file):10:5: users[c].tokenFile: token file \(tokenFile.path) does not exist")
        )
    }

    @Test("a tokenFile that is missing or empty fails at load time")
    func tokenFileChecked() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("empty-token", "\n")
        let file = try directory.write("config", Fixture.single("c", user: "    tokenFile: empty-token\n"))
        let error = try #require(throws: KubeConfigError.self) {
            try Fixture.loader(in: directory).load(explicitPath: file)
        }
        #expect(error.field == "users[c].tokenFile")
        #expect(error.message == "token file \(directory.path)/empty-token is empty")
    }

    @Test("basic auth; a token and a password together are refused as kubectl refuses them")
    func basicAuth() throws {
        let config = try resolve(user: "    username: admin\n    password: hunter2\n")
        #expect(config.credentials == .basic(username: "admin", password: Redacted("hunter2")))
        #expect(try config.currentBearerToken() == nil)

        let error = try #require(throws: KubeConfigError.self) {
            try resolve(user: "    username: admin\n    password: hunter2\n    token: abc\n")
        }
        #expect(error.message.contains("only one authentication method is allowed"))
    }

    @Test("an exec credential plugin fails now, naming the user entry, and is never run")
    func execPlugin() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let marker = "\(directory.path)/ran"
        let user = """
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: /bin/sh
                  args: ["-c", "touch \(marker)"]

            """
        let error = try #require(throws: KubeConfigError.self) { try resolve(user: user) }
        #expect(error.description.hasPrefix("/k/config:10:5: users[c].exec: exec credential plugins ('/bin/sh')"))
        #expect(error.message.contains("not supported yet"))
        #expect(error.hint?.contains("token, a tokenFile or a client certificate") == true)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("an auth-provider fails now, naming the user entry")
    func authProvider() throws {
        let user = "    auth-provider:\n      name: oidc\n      config: {client-id: x}\n"
        let error = try #require(throws: KubeConfigError.self) { try resolve(user: user) }
        #expect(error.field == "users[c].auth-provider")
        #expect(error.message == "auth-provider ('oidc') is not supported yet")
        #expect(error.hint?.contains("tokenFile") == true)
    }

    @Test("an exec user that no chosen context uses does not stop the others")
    func unusedExecUser() throws {
        let text = """
            clusters:
            - {name: c, cluster: {server: "https://c:443"}}
            users:
            - {name: gke, user: {exec: {command: gke-gcloud-auth-plugin}}}
            - {name: ci, user: {token: t}}
            contexts:
            - {name: ci, context: {cluster: c, user: ci}}
            current-context: ci
            """
        #expect(try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/").clientConfig().contextName == "ci")
    }

    @Test("impersonation is refused rather than silently dropped")
    func impersonation() throws {
        let error = try #require(throws: KubeConfigError.self) { try resolve(user: "    token: t\n    as: admin\n") }
        #expect(error.field == "users[c].as")
        #expect(error.message == "impersonation is not supported yet")
    }
}
