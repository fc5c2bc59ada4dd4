import Testing
import WherryController
import WherryKube
import WherryModel
import WherryRender

@Suite("Config keys of prune, drift, retry and health")
struct ConvergenceConfigTests {
    private let repository = "github_configs:\n  r: {repo_owner: o, repo_name: n}\nservices:\n"

    private func service(_ fields: String) throws -> ServiceConfig {
        let text = repository + "  - {name: a, github: r, k8s_yaml_dir: a, \(fields)}\n"
        return try #require(try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config.services.first)
    }

    private func errors(_ fields: String) throws -> [String] {
        let text = repository + "  - {name: a, github: r, k8s_yaml_dir: a, \(fields)}\n"
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/")
        }
        return error.issues.map(\.description)
    }

    @Test("defaults: prune on, background propagation, drift every 10 minutes, no ignore rules, the loop's retry")
    func defaults() throws {
        let service = try service("namespace: web")
        #expect(service.prune && !service.allowEmpty && !service.createNamespace && !service.wait)
        #expect(service.prunePropagation == .background)
        #expect(service.driftInterval == 600)
        #expect(service.ignoreDifferences.isEmpty)
        #expect(service.retry == nil)
    }

    @Test("every key, in the seed's and Argo CD's shapes")
    func everything() throws {
        let service = try service(
            """
            namespace: web, create_namespace: true, allow_empty: true, prune_propagation: foreground,
            drift_interval: 0, wait: true, timeout: 2m,
            ignore_differences: [{group: apps, kind: Deployment, name: web, json_pointers: [/spec/replicas]}],
            retry: {limit: 3, backoff: {duration: 10s, factor: 3, max_duration: 5m}}
            """)
        #expect(service.createNamespace && service.allowEmpty && service.wait)
        #expect(service.prunePropagation == .foreground)
        #expect(service.driftInterval == 0)
        #expect(service.timeout == 120)
        #expect(
            service.ignoreDifferences == [
                IgnoreRule(group: "apps", kind: "Deployment", name: "web", jsonPointers: ["/spec/replicas"])
            ])
        let retry = try #require(service.retry)
        #expect(retry == RetryPolicy(limit: 3, duration: 10, factor: 3, maxDuration: 300))
        #expect([1, 2, 3, 4].map(retry.delay) == [10, 30, 90, 270])
        #expect(retry.allowsRetry(after: 3) && !retry.allowsRetry(after: 4))
        let rule = service.ignoreDifferences[0]
        #expect(rule.matches(ObjectRef(group: "apps", kind: "Deployment", namespace: "web", name: "web")))
        #expect(!rule.matches(ObjectRef(group: "apps", kind: "Deployment", namespace: "web", name: "api")))
    }

    @Test("mistakes are errors with where and what to do")
    func mistakes() throws {
        #expect(try errors("create_namespace: true").contains { $0.contains("'create_namespace' needs 'namespace'") })
        #expect(
            try errors("prune_propagation: sideways").contains {
                $0.contains("use background (default), foreground or orphan")
            })
        #expect(try errors("drift_interval: -5").contains { $0.contains("drift_interval") })
        #expect(try errors("retry: {limit: 3, backof: {}}").contains { $0.contains("did you mean 'backoff'?") })
        #expect(try errors("retry: {backoff: {factor: 0}}").contains { $0.contains("must be a positive number") })
        #expect(
            try errors("ignore_differences: [{kind: Deployment, json_pointers: [spec.replicas]}]").contains {
                $0.contains("'spec.replicas' is not a JSON pointer") && $0.contains("/spec/replicas")
            })
        #expect(try errors("ignore_differences: [{json_pointers: [/a]}]").contains { $0.contains("kind") })
        let cycle =
            repository + """
                  - {name: a, github: r, k8s_yaml_dir: a, depends_on: [b]}
                  - {name: b, github: r, k8s_yaml_dir: b, depends_on: [a]}
                """
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.parse(cycle, file: "c.yaml", baseDirectory: "/")
        }
        #expect(error.issues.contains { $0.description.contains("depends_on forms a cycle: a -> b -> a") })
        #expect(error.issues.contains { $0.description.hasPrefix("c.yaml:") })
    }
}

@Suite("Config keys of the seed's features")
struct SeedFeatureConfigTests {
    private func load(_ text: String) throws -> WherryConfig {
        try ConfigLoader.parse(text, file: "c.yaml", baseDirectory: "/").config
    }

    private func errors(_ text: String) throws -> [String] {
        let error = try #require(throws: ConfigError.self) { try load(text) }
        return error.issues.map(\.description)
    }

    private let head = "github_configs:\n  r: {repo_owner: o, repo_name: n}\n"

    @Test("the applier: native by default, nokube when only applyer_nokube is set (as in the seed), or as chosen")
    func applier() throws {
        let service = "services:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"
        let nokube = "applyer_nokube: {cluster_name: home, nokube_download_url: https://x/nokube}\n"
        #expect(try load(head + service).applyer == .native)
        #expect(try load(head + service + nokube).applyer == .nokube)
        #expect(try load(head + service + nokube + "applyer: native\n").applyer == .native)
        #expect(try load(head + service + "applyer: kubectl\n").applyer == .kubectl)
        #expect(
            try errors(head + service + "applyer: nokube\n").contains { $0.contains("needs an applyer_nokube block") })
        #expect(
            try errors(head + service + "applyer: helm\n").contains {
                $0.contains("use native (default), kubectl or nokube")
            })
        let badSum = "applyer_nokube: {cluster_name: h, nokube_download_url: https://x/n, sha256: abc}\n"
        #expect(try errors(head + service + badSum).contains { $0.contains("must be 64 hex digits") })
        let notHTTP = "applyer_nokube: {cluster_name: h, nokube_download_url: ftp://x/n}\n"
        #expect(try errors(head + service + notHTTP).contains { $0.contains("must be an http:// or https:// URL") })
    }

    @Test("stateless: true or options; download_base_url per service overrides the top level")
    func stateless() throws {
        let config = try load(
            head + "download_base_url: https://top.example\nservices:\n"
                + "  - {name: a, github: r, k8s_yaml_dir: a, stateless: true}\n"
                + "  - {name: b, github: r, k8s_yaml_dir: b, download_base_url: http://b.example, "
                + "stateless: {image: alpine:3.20, command: init, attempts: 3}}\n"
                + "  - {name: c, github: r, k8s_yaml_dir: c, stateless: false, config_dir: conf}\n")
        let a = try #require(config.service(named: "a")?.statelessMutation)
        #expect(a.downloadBaseURL == "https://top.example" && a.image == StatelessMutation.defaultImage)
        #expect(a.command == .whenUnset)
        let b = try #require(config.service(named: "b")?.statelessMutation)
        #expect(
            b
                == StatelessMutation(
                    service: "b", downloadBaseURL: "http://b.example", image: "alpine:3.20", command: .initScript,
                    attempts: 3))
        #expect(config.service(named: "c")?.statelessMutation == nil)
        #expect(config.service(named: "c")?.configDirectory == "conf")
        let bad = head + "download_base_url: https://x\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a, "
        #expect(
            try errors(bad + "stateless: {command: always}}\n").contains {
                $0.contains("use when-unset (default), init or keep")
            })
        #expect(
            try errors(bad + "config_dir: ../up}\n").contains {
                $0.contains("'config_dir' must stay inside the repository")
            })
    }
}
