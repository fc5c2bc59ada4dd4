import Testing
import WherryKube
import WherryTesting

@Suite("Choosing the context")
struct KubeConfigContextTests {
    private typealias Fixture = KubeConfigFixture

    private static let twoContexts = """
        clusters:
        - name: prod-cluster
          cluster: {server: "https://prod:6443"}
        - name: staging-cluster
          cluster: {server: "https://staging:6443"}
        users:
        - name: deployer
          user: {token: abc}
        contexts:
        - name: production
          context: {cluster: prod-cluster, user: deployer, namespace: shop}
        - name: staging
          context: {cluster: staging-cluster, user: deployer}
        current-context: production
        """

    @Test("--context picks a context over current-context")
    func explicitContext() throws {
        let config = try KubeConfig.parse(Self.twoContexts, file: "k.yaml", baseDirectory: "/")
        let staging = try config.clientConfig(context: "staging")
        #expect(staging.server.absoluteString == "https://staging:6443")
        #expect(staging.contextName == "staging")
        #expect(staging.namespace == "default")
        let current = try config.clientConfig()
        #expect(current.contextName == "production")
        #expect(current.namespace == "shop")
    }

    @Test("an unknown --context lists the contexts with a did-you-mean")
    func unknownContext() throws {
        let config = try KubeConfig.parse(Self.twoContexts, file: "/k/config", baseDirectory: "/k")
        let error = try #require(throws: KubeConfigError.self) { try config.clientConfig(context: "stagin") }
        #expect(error.message == "context 'stagin' (from --context) is not defined in /k/config")
        #expect(error.hint == "did you mean 'staging'? available contexts: production, staging")

        let far = try #require(throws: KubeConfigError.self) { try config.clientConfig(context: "qa") }
        #expect(far.hint == "available contexts: production, staging")
    }

    @Test("no current-context says to pass --context or run kubectl config use-context")
    func noCurrentContext() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let file = try directory.write("config", Fixture.single("lonely", current: false))
        let error = try #require(throws: KubeConfigError.self) {
            try Fixture.loader(in: directory).load(explicitPath: file)
        }
        #expect(error.field == "current-context")
        #expect(error.message == "no current-context is set in \(file)")
        #expect(error.hint == "pass --context NAME (available: lonely) or run `kubectl config use-context NAME`")
        #expect(try Fixture.loader(in: directory).load(explicitPath: file, context: "lonely").contextName == "lonely")
    }

    @Test("a current-context naming a missing context points at the current-context line")
    func danglingCurrentContext() throws {
        let text = Self.twoContexts.replacingOccurrences(
            of: "current-context: production", with: "current-context: prodution")
        let config = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/")
        let error = try #require(throws: KubeConfigError.self) { try config.clientConfig() }
        #expect(error.description.hasPrefix("k.yaml:14:1: current-context: names context 'prodution'"))
        #expect(error.hint?.hasPrefix("did you mean 'production'?") == true)
    }

    @Test("a context naming an unknown cluster or user says which, where, and what exists")
    func danglingReferences() throws {
        let text = Self.twoContexts.replacingOccurrences(
            of: "user: deployer, namespace", with: "user: deploy, namespace")
        let config = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/")
        let error = try #require(throws: KubeConfigError.self) { try config.clientConfig() }
        #expect(error.field == "contexts[production].user")
        #expect(error.message == "user 'deploy' is not defined in k.yaml")
        #expect(error.hint == "did you mean 'deployer'? available users: deployer")

        let noServer = try KubeConfig.parse(
            "clusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\n  user: {}\n"
                + "contexts:\n- name: x\n  context: {cluster: c, user: u}\n",
            file: "k.yaml", baseDirectory: "/")
        let missing = try #require(throws: KubeConfigError.self) { try noServer.clientConfig(context: "x") }
        #expect(missing.field == "clusters[c].server")
        #expect(missing.message == "cluster 'c' has no server")
    }

    @Test("an invalid namespace in the context is refused")
    func badNamespace() throws {
        let text = Self.twoContexts.replacingOccurrences(of: "namespace: shop", with: "namespace: Shop_1")
        let config = try KubeConfig.parse(text, file: "k.yaml", baseDirectory: "/")
        let error = try #require(throws: KubeConfigError.self) { try config.clientConfig() }
        #expect(error.field == "contexts[production].namespace")
    }
}
