import Testing
import WherryController

@Suite("The instance a config is")
struct InstanceConfigTests {
    private let services = "github_configs:\n  r: {url: /r}\nservices:\n  - {name: a, github: r, k8s_yaml_dir: a}\n"

    @Test("default: the config file's name without its extension, made a label value")
    func derived() throws {
        let loaded = try ConfigLoader.parse(services, file: "/etc/gitops/team-b.yaml", baseDirectory: "/etc/gitops")
        #expect(loaded.config.instance == "team-b")
        #expect(WherryConfig.defaultInstance(file: "/x/gitops-config.yaml") == "gitops-config")
        #expect(WherryConfig.defaultInstance(file: "/x/_my config!.yml") == "my-config")
        #expect(WherryConfig.defaultInstance(file: "/x/.yaml") == "wherry")
    }

    @Test("instance: sets it; a name that cannot be a label value is a located error")
    func explicit() throws {
        let loaded = try ConfigLoader.parse(services + "instance: prod-eu\n", file: "/c/g.yaml", baseDirectory: "/c")
        #expect(loaded.config.instance == "prod-eu")
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.parse(services + "instance: \"bad name!\"\n", file: "/c/g.yaml", baseDirectory: "/c")
        }
        let text = error.issues.map(\.description).joined(separator: "\n")
        #expect(text.contains("g.yaml:5:") && text.contains("'bad name!' cannot be an instance name"), "\(text)")
    }
}
