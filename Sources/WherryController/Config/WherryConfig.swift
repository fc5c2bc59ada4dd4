public import WherryGit
public import WherryKube
public import WherryModel
public import WherryRender

/// Wherry's configuration: the seed's `gitops-config.yaml`, read unchanged, plus Wherry's optional keys.
public struct WherryConfig: Sendable {
    /// Git repositories by key, in the order they were written.
    public var repositories: [RepositoryConfig]
    /// Services in the order they were written.
    public var services: [ServiceConfig]
    /// Seconds between polls (`poll_interval`, default 60).
    public var pollInterval: Int
    /// Where deploy notifications are POSTed (`webhook_url`). Treated as a secret: never printed.
    public var webhookURL: String?
    /// Environment variable holding `webhook_url` instead (`webhook_url_env`), as `wherry install` writes it.
    public var webhookURLEnv: String?
    /// The seed's NoKube applyer (`applyer_nokube`).
    public var applyerNokube: NokubeApplyerConfig?
    /// The applier in use (`applyer`; `nokube` when only `applyer_nokube` is set, as in the seed; else native).
    public var applyer: ApplyerKind = .native
    /// Base URL workloads download scripts and apps from (`download_base_url`).
    public var downloadBaseURL: String?
    /// Directory served under `/scripts`, `/apps`, `/configs` (`artifacts_dir`).
    public var artifactsDirectory: String?
    /// Environment variable holding the bearer token for the sync API (`api_token_env`).
    public var apiTokenEnv: String?
    /// Environment variable holding the GitHub webhook secret (`webhook_secret_env`).
    public var webhookSecretEnv: String?
    /// Directory for state and the git cache (`state_dir`).
    public var stateDirectory: String?
    /// The file this was read from.
    public var file: String
    /// The Wherry instance this config is (`instance`; default: the config file's name without its extension, see
    /// ``defaultInstance(file:)``). Its inventories carry it as the label `wherry.dev/instance`: orphans and prune
    /// only ever consider this instance's, and a service whose inventory another instance holds is an error. Empty:
    /// no instance (inventories are neither labelled nor filtered).
    public var instance = ""

    public init(
        repositories: [RepositoryConfig], services: [ServiceConfig], pollInterval: Int = 60, webhookURL: String? = nil,
        applyerNokube: NokubeApplyerConfig? = nil, downloadBaseURL: String? = nil, artifactsDirectory: String? = nil,
        apiTokenEnv: String? = nil, webhookSecretEnv: String? = nil, stateDirectory: String? = nil, file: String
    ) {
        self.repositories = repositories
        self.services = services
        self.pollInterval = pollInterval
        self.webhookURL = webhookURL
        self.applyerNokube = applyerNokube
        self.downloadBaseURL = downloadBaseURL
        self.artifactsDirectory = artifactsDirectory
        self.apiTokenEnv = apiTokenEnv
        self.webhookSecretEnv = webhookSecretEnv
        self.stateDirectory = stateDirectory
        self.file = file
    }

    /// The repository a service reads from.
    public func repository(for service: ServiceConfig) -> RepositoryConfig? {
        repositories.first { $0.key == service.repository }
    }

    /// The notification URL: `webhook_url`, else the variable `webhook_url_env` names.
    public func notificationURL(environment: [String: String]) -> String? {
        webhookURL ?? webhookURLEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The service with this name.
    public func service(named name: String) -> ServiceConfig? {
        services.first { $0.name == name }
    }
}

/// One Git repository (`github_configs.<key>`, or one made for a legacy `repo:` URL).
public struct RepositoryConfig: Sendable, Hashable {
    /// The key services refer to with `github:`.
    public var key: String
    /// `repo_owner`, when known.
    public var owner: String?
    /// `repo_name`, when known.
    public var name: String?
    /// Branch to follow (default `main`).
    public var branch: String
    /// Remote URL: `url:` if given (relative paths resolved against the config file), else GitHub's.
    public var url: String
    /// Where the HTTPS token comes from, if any.
    public var token: TokenSource?
    /// SSH private key file.
    public var sshKeyFile: String?
    /// SSH known_hosts file.
    public var knownHostsFile: String?
    /// Which commits may be applied (`verify`): only those signed by a trusted key; any when `nil`.
    public var verification: CommitVerification?
    /// How SOPS-encrypted objects of its services are decrypted (`decryption`), unless a service says otherwise.
    public var decryption: DecryptionConfig?
    /// Where the entry was written.
    public var location: SourceLocation

    public init(
        key: String, owner: String?, name: String?, branch: String, url: String, token: TokenSource?,
        sshKeyFile: String?, knownHostsFile: String?, location: SourceLocation
    ) {
        self.key = key
        self.owner = owner
        self.name = name
        self.branch = branch
        self.url = url
        self.token = token
        self.sshKeyFile = sshKeyFile
        self.knownHostsFile = knownHostsFile
        self.location = location
    }

    /// `owner/name` as the seed's status API shows it, or the key when either is unknown.
    public var displayName: String {
        if let owner, let name { return "\(owner)/\(name)" }
        return key
    }
}

/// Where a Git token comes from.
public enum TokenSource: Sendable, Hashable, CustomStringConvertible {
    /// Written in the config (the seed's `token:`); works, but `wherry validate` warns.
    case inline(Secret)
    /// Read from an environment variable (`token_env`).
    case environment(String)
    /// Read from a file, e.g. a mounted Secret (`token_file`).
    case file(String)

    public var description: String {
        switch self {
        case .inline: "inline token"
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        }
    }
}

/// A secret string whose descriptions never reveal it.
public typealias Secret = Redacted<String>

/// One service: a directory of manifests in a repository, applied as a unit.
public struct ServiceConfig: Sendable, Hashable {
    /// Service name; also the value of the `wherry.dev/service` label.
    public var name: String
    /// Key of the repository in ``WherryConfig/repositories``.
    public var repository: String
    /// Directory in the repository holding the manifests (`k8s_yaml_dir`).
    public var directory: String
    /// Namespace for namespaced objects that do not name one.
    public var namespace: String?
    /// Whether objects that left Git are deleted (default true).
    public var prune: Bool
    /// Whether reconciling is paused.
    public var suspend: Bool
    /// Seconds between reconciles; the global poll interval when `nil`.
    public var interval: Int?
    /// Services that must be applied first.
    public var dependsOn: [String]
    /// Seconds one reconcile may take.
    public var timeout: Int?
    /// Whether to wait for workloads to become ready.
    public var wait: Bool
    /// Whether to apply the seed's stateless mutation.
    public var stateless: Bool
    /// Where the entry was written.
    public var location: SourceLocation
    /// Whether a render with no objects, or a prune of more than half the inventory, may go ahead (`allow_empty`).
    public var allowEmpty = false
    /// How pruned objects' dependents are deleted (`prune_propagation`, default background).
    public var prunePropagation = DeleteOptions.Propagation.background
    /// Whether `namespace` is created when missing (`create_namespace`).
    public var createNamespace = false
    /// Seconds between drift checks (`drift_interval`, default 600); 0 turns them off.
    public var driftInterval = ServiceConfig.defaultDriftInterval
    /// Fields left to other controllers (`ignore_differences`).
    public var ignoreDifferences: [IgnoreRule] = []
    /// How failures are retried (`retry`); the loop's backoff when `nil`.
    public var retry: RetryPolicy?
    /// Directory of config files that becomes ConfigMap `<name>-config` (`config_dir`).
    public var configDirectory: String?
    /// The stateless mutation (`stateless: true` or a map), with its download base URL resolved.
    public var statelessMutation: StatelessMutation?
    /// How its SOPS-encrypted objects are decrypted (`decryption`); the repository's when `nil`.
    public var decryption: DecryptionConfig?

    /// Drift checks every 10 minutes unless a service says otherwise.
    public static let defaultDriftInterval = 600
    /// How long `wait: true` waits for health unless `timeout` says otherwise.
    public static let defaultTimeout = 300

    public init(
        name: String, repository: String, directory: String, namespace: String? = nil, prune: Bool = true,
        suspend: Bool = false, interval: Int? = nil, dependsOn: [String] = [], timeout: Int? = nil, wait: Bool = false,
        stateless: Bool = false, location: SourceLocation
    ) {
        self.name = name
        self.repository = repository
        self.directory = directory
        self.namespace = namespace
        self.prune = prune
        self.suspend = suspend
        self.interval = interval
        self.dependsOn = dependsOn
        self.timeout = timeout
        self.wait = wait
        self.stateless = stateless
        self.location = location
    }
}

/// The seed's `applyer_nokube` block.
public struct NokubeApplyerConfig: Sendable, Hashable {
    /// Target NoKube cluster.
    public var clusterName: String
    /// Where the `nokube` binary is downloaded from.
    public var downloadURL: String
    /// Optional NoKube config file.
    public var configFile: String?
    /// The binary's SHA-256 (hex), checked after download when given.
    public var sha256: String?

    public init(clusterName: String, downloadURL: String, configFile: String? = nil, sha256: String? = nil) {
        self.clusterName = clusterName
        self.downloadURL = downloadURL
        self.configFile = configFile
        self.sha256 = sha256
    }
}

extension WherryConfig {
    /// The instance of a config without `instance`: its file name without the extension (`/etc/gitops/b.yaml` →
    /// `b`), made a valid label value. The name, not the path or the content: every replica and a `wherry sync` on a
    /// laptop see the same name for the same config (a ConfigMap mounted anywhere keeps its key), and adding a
    /// service or a repository does not change it. Two configs in one namespace with the same file name must set
    /// `instance` (the README says so).
    public static func defaultInstance(file: String) -> String {
        var name = String(file.split(separator: "/").last ?? "")
        for suffix in [".yaml", ".yml", ".json"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        var label = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
        label = String(label.prefix(63))
        while let first = label.first, !(first.isLetter || first.isNumber) { label.removeFirst() }
        while let last = label.last, !(last.isLetter || last.isNumber) { label.removeLast() }
        return label.isEmpty ? "wherry" : label
    }

    /// Whether `name` can be an instance: a Kubernetes label value (at most 63 characters of letters, digits, `-`,
    /// `_` and `.`, beginning and ending with a letter or digit).
    public static func isValidInstance(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last, name.count <= 63 else { return false }
        let edge = { (character: Character) in character.isASCII && (character.isLetter || character.isNumber) }
        return edge(first) && edge(last) && name.allSatisfy { edge($0) || "-_.".contains($0) }
    }
}
