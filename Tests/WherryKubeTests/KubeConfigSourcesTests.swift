import Foundation
import Testing
import WherryKube
import WherryModel
import WherryTesting

@Suite("Finding the kubeconfig as kubectl does")
struct KubeConfigSourcesTests {
    private typealias Fixture = KubeConfigFixture

    @Test("--kubeconfig is used alone, even when KUBECONFIG is set")
    func explicitPath() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let explicit = try directory.write("explicit.yaml", Fixture.single("prod", namespace: "shop"))
        let other = try directory.write("other.yaml", Fixture.single("other", server: "https://other:6443"))
        let loader = Fixture.loader(in: directory, environment: ["KUBECONFIG": other])
        let config = try loader.load(explicitPath: explicit)
        #expect(config.server.absoluteString == "https://10.0.0.1:6443")
        #expect(config.contextName == "prod")
        #expect(config.namespace == "shop")
        #expect(config.source == .kubeconfig(files: [explicit], context: "prod"))
    }

    @Test("a missing --kubeconfig file is an error, not a fallback")
    func explicitMissing() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let home = "\(directory.path)/home"
        try directory.write("home/.kube/config", Fixture.single("home"))
        let loader = Fixture.loader(in: directory, home: home)
        let error = try #require(throws: KubeConfigError.self) {
            try loader.load(explicitPath: "\(directory.path)/nope.yaml")
        }
        #expect(error.description.contains("\(directory.path)/nope.yaml"))
        #expect(error.description.contains("does not exist"))
        #expect(error.hint?.contains("--kubeconfig") == true)
    }

    @Test("KUBECONFIG files merge: the first file to define a name wins, current-context from the first that sets it")
    func mergedKubeconfig() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let first = try directory.write(
            "a/config",
            """
            clusters:
            - name: shared
              cluster:
                server: https://first.example:6443
            users:
            - name: alice
              user:
                token: first-token
            contexts:
            - name: dev
              context: {cluster: shared, user: alice, namespace: from-first}
            """)
        let second = try directory.write(
            "b/config",
            """
            clusters:
            - name: shared
              cluster:
                server: https://second.example:6443
            users:
            - name: alice
              user:
                token: second-token
            contexts:
            - name: dev
              context: {cluster: shared, user: alice, namespace: from-second}
            current-context: dev
            """)
        let third = try directory.write("c/config", Fixture.single("third"))
        let loader = Fixture.loader(in: directory, environment: ["KUBECONFIG": "\(first):\(second):\(third)"])
        let merged = try #require(try loader.kubeConfig())
        #expect(merged.files == [first, second, third])
        #expect(merged.currentContext == "dev")
        #expect(merged.currentContextLocation?.file == second)
        #expect(merged.clusters.keys.sorted() == ["shared", "third"])

        let config = try loader.load()
        #expect(config.contextName == "dev")
        #expect(config.server.absoluteString == "https://first.example:6443")
        #expect(config.namespace == "from-first")
        #expect(try config.currentBearerToken()?.value == "first-token")
    }

    @Test("missing files in KUBECONFIG are skipped; empty entries and repeats are ignored")
    func missingInList() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let present = try directory.write("config", Fixture.single("only"))
        let list = "\(directory.path)/missing-1::\(present):\(directory.path)/missing-2:\(present)"
        let loader = Fixture.loader(in: directory, environment: ["KUBECONFIG": list])
        let config = try loader.load()
        #expect(config.source == .kubeconfig(files: [present], context: "only"))
    }

    @Test("KUBECONFIG naming only missing files does not fall back to ~/.kube/config")
    func kubeconfigAllMissing() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        try directory.write("home/.kube/config", Fixture.single("home"))
        let loader = Fixture.loader(
            in: directory, environment: ["KUBECONFIG": "\(directory.path)/gone"], home: "\(directory.path)/home")
        let error = try #require(throws: KubeConfigError.self) { try loader.load() }
        #expect(error.message.contains("KUBECONFIG (\(directory.path)/gone: none exists)"))
    }

    @Test("without --kubeconfig and KUBECONFIG, ~/.kube/config under the injected home is read")
    func homeFallback() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let file = try directory.write("home/.kube/config", Fixture.single("home"))
        let fromHome = KubeConfigLoader(
            environment: ["HOME": "\(directory.path)/home"],
            serviceAccountDirectory: "\(directory.path)/no-serviceaccount")
        #expect(fromHome.homeDirectory == "\(directory.path)/home")
        #expect(try fromHome.load().source == .kubeconfig(files: [file], context: "home"))

        let injected = Fixture.loader(in: directory, home: "\(directory.path)/home")
        #expect(try injected.load().contextName == "home")
    }

    @Test("when nothing is found, the error lists every place tried and what to do")
    func nothingFound() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let loader = Fixture.loader(in: directory, home: "\(directory.path)/home")
        let error = try #require(throws: KubeConfigError.self) { try loader.load() }
        #expect(error.message.hasPrefix("no Kubernetes configuration found; tried: "))
        #expect(error.message.contains("\(directory.path)/home/.kube/config (does not exist)"))
        #expect(error.message.contains("in-cluster (KUBERNETES_SERVICE_HOST is not set"))
        #expect(error.hint?.contains("--kubeconfig") == true)

        let withContext = try #require(throws: KubeConfigError.self) { try loader.load(context: "prod") }
        #expect(withContext.message.hasPrefix("context 'prod' was asked for, but no kubeconfig was found"))
    }

    @Test("a kubeconfig written as JSON loads, and unknown fields are ignored")
    func jsonAndUnknownFields() throws {
        let directory = try TemporaryDirectory(prefix: "kube")
        defer { directory.remove() }
        let file = try directory.write(
            "config.json",
            """
            {
              "apiVersion": "v1", "kind": "Config", "preferences": {"colors": true},
              "clusters": [{"name": "c", "cluster": {"server": "https://c:443", "extensions": [], "shiny": 1}}],
              "users": [{"name": "u", "user": {"token": "t"}, "future": {"x": 1}}],
              "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
              "current-context": "x"
            }
            """)
        let config = try Fixture.loader(in: directory).load(explicitPath: file)
        #expect(config.server.absoluteString == "https://c:443")
        #expect(config.namespace == "default")
        #expect(config.credentials == .bearerToken(Redacted("t")))
    }

    @Test("broken YAML and wrong shapes are reported with file, line and field")
    func malformed() throws {
        let bad = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse("clusters:\n- name: a\n  cluster: [\n", file: "k.yaml", baseDirectory: "/")
        }
        #expect(bad.description.hasPrefix("k.yaml:"))
        #expect(bad.message.contains("is not valid YAML or JSON"))

        let shape = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse("users:\n  alice: {}\n", file: "k.yaml", baseDirectory: "/")
        }
        #expect(shape.description.hasPrefix("k.yaml:2:3: users: must be a list of entries with name and user"))

        let twice = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(
                "contexts:\n- name: a\n  context: {}\n- name: a\n  context: {}\n", file: "k.yaml", baseDirectory: "/")
        }
        #expect(twice.description.hasPrefix("k.yaml:4:3: contexts[a]: 'a' is defined twice in this file"))

        let flag = try #require(throws: KubeConfigError.self) {
            try KubeConfig.parse(
                "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: \"maybe\"\n", file: "k.yaml",
                baseDirectory: "/")
        }
        #expect(flag.field == "clusters[c].insecure-skip-tls-verify")
        #expect(flag.message == "must be true or false, found 'maybe'")
    }
}
