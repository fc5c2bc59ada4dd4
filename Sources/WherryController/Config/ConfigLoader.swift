import Foundation
import WherryModel
import WherryRender

/// A config that loaded, with the warnings found on the way (an inline token, a deprecated key).
public struct LoadedConfig: Sendable {
    public var config: WherryConfig
    public var warnings: [ConfigIssue]
}

/// Reads `gitops-config.yaml`: the seed's keys with their meaning, Wherry's extensions, and strict validation
/// that reports every problem at once with `file:line:column` and a hint.
public enum ConfigLoader {
    static let topLevelKeys = [
        "github_configs", "services", "poll_interval", "webhook_url", "applyer_nokube", "download_base_url",
        "download_config", "artifacts_dir", "applyer", "webhook_url_env", "api_token_env", "webhook_secret_env",
        "state_dir", "instance",
    ]

    /// Loads a config file. Relative paths inside it (`url: ..`, `token_file`) are relative to its directory.
    public static func load(path: String) throws(ConfigError) -> LoadedConfig {
        let text: String
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
            size > YAMLReader.maxFileBytes
        {
            throw ConfigError([
                ConfigIssue(
                    .error, SourceLocation(file: path),
                    "config file is \(size >> 20) MiB; a config is read up to \(YAMLReader.maxFileBytes >> 20) MiB",
                    hint: "pass the path of your gitops-config.yaml with --config")
            ])
        }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigError([
                ConfigIssue(
                    .error, SourceLocation(file: path), "config file \(reason)",
                    hint: "pass the path of your gitops-config.yaml with --config")
            ])
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseDirectory: directory)
    }

    /// Parses config text; `file` is used in messages, `baseDirectory` to resolve relative paths.
    public static func parse(_ text: String, file: String, baseDirectory: String) throws(ConfigError) -> LoadedConfig {
        let root: YAMLValue
        do {
            root = try YAMLReader.single(text, file: file)
        } catch {
            throw ConfigError([ConfigIssue(.error, error.location, error.message)])
        }
        guard root.entries != nil else {
            throw ConfigError([
                ConfigIssue(.error, root.location, "the config must be a map of keys, found \(root.typeDescription)")
            ])
        }
        var issues: [ConfigIssue] = []
        let top = FieldReader(root, path: "")
        top.rejectUnknown(known: topLevelKeys, issues: &issues) { key in
            ["target_files", "repo_owner", "repo_name", "branch"].contains(key)
                ? "this is the oldest Simple GitOps layout; put repositories under github_configs and directories under services"
                : nil
        }
        var repositories = readRepositories(root["github_configs"], baseDirectory: baseDirectory, issues: &issues)
        // Services may name a repository whose entry has its own errors; that is not a second problem.
        let declared = root["github_configs"]?.entries?.map(\.key) ?? repositories.map(\.key)
        let pollInterval = top.seconds("poll_interval", issues: &issues) ?? 60
        let webhookURL = top.string("webhook_url", issues: &issues)
        if let webhookURL, !(webhookURL.hasPrefix("https://") || webhookURL.hasPrefix("http://")) {
            issues.append(
                ConfigIssue(.error, root["webhook_url"]!.location, "'webhook_url' must be an http:// or https:// URL"))
        }
        var downloadBaseURL = top.string("download_base_url", issues: &issues)
        if let legacy = root["download_config"], !legacy.isNull {
            let reader = FieldReader(legacy, path: "download_config")
            if legacy.entries == nil {
                issues.append(ConfigIssue(.error, legacy.location, "'download_config' must be a map with base_url"))
            } else {
                reader.rejectUnknown(known: ["base_url"], issues: &issues)
                if downloadBaseURL == nil { downloadBaseURL = reader.string("base_url", issues: &issues) }
                issues.append(
                    ConfigIssue(
                        .warning, top.location("download_config"), "'download_config.base_url' is an older spelling",
                        hint: "write download_base_url at the top level instead"))
            }
        }
        let services = readServices(
            root["services"], repositories: &repositories, declaredKeys: declared, downloadBaseURL: downloadBaseURL,
            baseDirectory: baseDirectory, issues: &issues)
        var config = WherryConfig(
            repositories: repositories,
            services: services,
            pollInterval: pollInterval,
            webhookURL: webhookURL,
            applyerNokube: readNokube(root["applyer_nokube"], issues: &issues),
            downloadBaseURL: downloadBaseURL,
            artifactsDirectory: top.string("artifacts_dir", issues: &issues).map { absolute($0, base: baseDirectory) },
            apiTokenEnv: top.string("api_token_env", issues: &issues),
            webhookSecretEnv: top.string("webhook_secret_env", issues: &issues),
            stateDirectory: top.string("state_dir", issues: &issues).map { absolute($0, base: baseDirectory) },
            file: file
        )
        config.webhookURLEnv = top.string("webhook_url_env", issues: &issues)
        config.instance = WherryConfig.defaultInstance(file: file)
        if let instance = top.string("instance", issues: &issues) {
            if WherryConfig.isValidInstance(instance) {
                config.instance = instance
            } else {
                issues.append(
                    ConfigIssue(
                        .error, top.location("instance"), "'\(instance)' cannot be an instance name",
                        hint: "use at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or "
                            + "digit (it becomes the label wherry.dev/instance)"))
            }
        }
        if let text = top.string("applyer", issues: &issues) {
            if let kind = ApplyerKind(rawValue: text) {
                config.applyer = kind
                if kind == .nokube, config.applyerNokube == nil {
                    issues.append(
                        ConfigIssue(
                            .error, top.location("applyer"), "'applyer: nokube' needs an applyer_nokube block",
                            hint: "add applyer_nokube: {cluster_name, nokube_download_url}"))
                }
            } else {
                issues.append(
                    ConfigIssue(
                        .error, top.location("applyer"), "'\(text)' is not an applier",
                        hint: "use native (default), kubectl or nokube"))
            }
        } else if config.applyerNokube != nil {
            config.applyer = .nokube
        }
        if services.isEmpty && !issues.contains(where: { $0.severity == .error }) {
            issues.append(
                ConfigIssue(
                    .warning, top.location("services"), "no services are configured; nothing will be deployed",
                    hint: "add services: - name, github, k8s_yaml_dir"))
        }
        let sorted = Self.sortedByLocation(issues)
        guard !sorted.contains(where: { $0.severity == .error }) else { throw ConfigError(sorted) }
        return LoadedConfig(config: config, warnings: sorted)
    }

    private static func readNokube(_ value: YAMLValue?, issues: inout [ConfigIssue]) -> NokubeApplyerConfig? {
        guard let value, !value.isNull else { return nil }
        guard value.entries != nil else {
            issues.append(
                ConfigIssue(.error, value.location, "'applyer_nokube' must be a map, found \(value.typeDescription)"))
            return nil
        }
        let reader = FieldReader(value, path: "applyer_nokube")
        reader.rejectUnknown(
            known: ["cluster_name", "nokube_download_url", "nokube_config_file", "sha256"], issues: &issues)
        let cluster = reader.string("cluster_name", required: true, issues: &issues)
        let url = reader.string("nokube_download_url", required: true, issues: &issues)
        let configFile = reader.string("nokube_config_file", issues: &issues)
        let sha256 = reader.string("sha256", issues: &issues)
        if let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) {
            issues.append(
                ConfigIssue(.error, reader.location("sha256"), "'applyer_nokube.sha256' must be 64 hex digits"))
        }
        if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            issues.append(
                ConfigIssue(
                    .error, reader.location("nokube_download_url"),
                    "'applyer_nokube.nokube_download_url' must be an http:// or https:// URL"))
        }
        guard let cluster, let url else { return nil }
        return NokubeApplyerConfig(clusterName: cluster, downloadURL: url, configFile: configFile, sha256: sha256)
    }

    static func absolute(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return NSString(string: path).expandingTildeInPath }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    /// File order; issues at one place keep the order they were found in.
    private static func sortedByLocation(_ issues: [ConfigIssue]) -> [ConfigIssue] {
        issues.enumerated().sorted {
            ($0.element.location.line, $0.element.location.column, $0.offset)
                < ($1.element.location.line, $1.element.location.column, $1.offset)
        }.map(\.element)
    }
}
