import Foundation
public import WherryModel
import WherryRender

/// How `wherry install` deploys Wherry.
public struct InstallOptions: Sendable {
    /// Put on every object as `wherry.dev/cluster` and given to Wherry as `WHERRY_CLUSTER_NAME`.
    public var clusterName: String
    /// Wherry's namespace (inventories, the Lease).
    public var namespace = "wherry-system"
    public var image: String
    /// Replicas of the Deployment (leader election picks the one that reconciles).
    public var replicas = 2
    /// The seed's DaemonSet on management nodes (`node-role.nokube.io/management=true`) instead of a Deployment.
    public var daemonSet = false
    /// A PersistentVolumeClaim of this size for the state, instead of an emptyDir (one replica then).
    public var stateVolumeSize: String?
    /// Restrict Wherry to these namespaces (Roles instead of a ClusterRole); empty: cluster-wide.
    public var namespaces: [String] = []
    /// Let Wherry apply Roles and ClusterRoles that grant what it does not hold itself (`bind`, `escalate`).
    public var manageRBAC = false
    /// Seconds Wherry takes to stop (`wherry run --shutdown-timeout`): applies in flight finish and notifications
    /// go out. The Pod's `terminationGracePeriodSeconds` is this plus ``shutdownMargin``.
    public var shutdownTimeout = 25
    /// The age key (`--sops-age-key-file`): kept in the Secret as `WHERRY_SOPS_AGE_KEY`, and every `decryption` of
    /// the config (added to each repository that has none) reads it from that variable.
    public var sopsAgeKey: Redacted<[UInt8]>?
    /// Seconds the Pod's grace period adds to ``shutdownTimeout``: for what is cancelled at the timeout to stop,
    /// the Lease to be released and the process to exit before the kubelet kills it.
    public static let shutdownMargin = 10

    public init(clusterName: String, image: String) {
        self.clusterName = clusterName
        self.image = image
    }
}

/// What `wherry install` makes: the objects, and what the user should know (secrets that could not be carried).
public struct InstallPlan: Sendable {
    public var objects: [KubeObject]
    public var warnings: [String]
}

/// A problem that stops the install (an unreadable config or credential file).
public struct InstallError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The standard Kubernetes objects that run Wherry in a cluster: least privilege, non-root, read-only root file
/// system, probes, and secrets only in a Secret. The config goes to a ConfigMap with every credential moved out:
/// inline tokens and the notification URL become environment variables fed by the Secret, token and SSH files become
/// keys of the Secret mounted at `/etc/wherry/secret`, and the variables `token_env`, `api_token_env` and
/// `webhook_secret_env` name are copied from the installing environment.
public enum InstallManifests {
    public static let name = "wherry"
    public static let secretName = "wherry-secrets"
    public static let secretMount = "/etc/wherry/secret"
    public static let configMount = "/etc/wherry/config"
    public static let stateMount = "/var/lib/wherry"
    public static let port = 8080
    /// The variable (fed by the Secret) that holds the age key given with `--sops-age-key-file`.
    public static let sopsAgeKeyVariable = "WHERRY_SOPS_AGE_KEY"

    public static func plan(
        configText: String, configFile: String, options: InstallOptions, environment: [String: String],
        readFile: (String) -> [UInt8]?
    ) throws(InstallError) -> InstallPlan {
        var secrets: [String: [UInt8]] = [:]
        var warnings: [String] = []
        var config: JSONObject
        do {
            guard case .object(let object) = try YAMLReader.single(configText, file: configFile).json else {
                throw InstallError("\(configFile) is not a map")
            }
            config = object
        } catch let error as InstallError {
            throw error
        } catch {
            throw InstallError("\(error)")
        }
        let base = (configFile as NSString).deletingLastPathComponent
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : (base.isEmpty ? path : base + "/" + path)
        }
        func secretFile(_ path: String, key: String) throws(InstallError) -> String {
            guard let bytes = readFile(resolve(path)) else {
                throw InstallError(
                    "\(path) (named in \(configFile)) cannot be read; the install needs it to fill the Secret")
            }
            secrets[key] = bytes
            return secretMount + "/" + key
        }
        func fromEnvironment(_ variable: String, _ purpose: String) {
            if let value = environment[variable], !value.isEmpty {
                secrets[variable] = Array(value.utf8)
            } else {
                warnings.append(
                    "\(variable) (\(purpose)) is not set in this environment, so the Secret does not hold it; set it "
                        + "and install again, or add it to Secret \(secretName) yourself")
            }
        }

        // The age key: from --sops-age-key-file into the variable every decryption block reads, else each block's
        // own file or variable is carried into the Secret.
        if let key = options.sopsAgeKey { secrets[Self.sopsAgeKeyVariable] = key.value }
        // `owner` is "repository NAME" or "service NAME": a repository and a service of one name get distinct keys.
        func decryption(_ value: JSONValue?, owner: String, wireWhenMissing: Bool) throws(InstallError) -> JSONValue? {
            guard var block = value?.objectValue else {
                guard wireWhenMissing, options.sopsAgeKey != nil else { return value }
                return ["provider": "sops", "age_key_env": .string(Self.sopsAgeKeyVariable)]
            }
            if options.sopsAgeKey != nil {
                block["age_key_file"] = Optional<JSONValue>.none
                block["age_key_env"] = .string(Self.sopsAgeKeyVariable)
            } else if let file = block["age_key_file"]?.stringValue {
                block["age_key_file"] = .string(try secretFile(file, key: "sops-age-key-" + Self.secretKey(owner)))
            } else if let name = block["age_key_env"]?.stringValue {
                fromEnvironment(name, "the age key of \(owner)")
            }
            return .object(block)
        }

        // Repositories: map form (key -> entry) or the older list form.
        func rewrite(_ entry: JSONObject, key: String) throws(InstallError) -> JSONObject {
            var entry = entry
            let variable = "WHERRY_TOKEN_" + key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            if let token = entry["token"]?.stringValue, !token.isEmpty {
                secrets[variable] = Array(token.utf8)
                entry["token"] = Optional<JSONValue>.none
                entry["token_env"] = .string(variable)
            } else if let name = entry["token_env"]?.stringValue {
                fromEnvironment(name, "the token of repository \(key)")
            } else if let file = entry["token_file"]?.stringValue {
                entry["token_file"] = .string(try secretFile(file, key: "token-" + Self.secretKey(key)))
            }
            if let file = entry["ssh_key_file"]?.stringValue {
                entry["ssh_key_file"] = .string(try secretFile(file, key: "ssh-key-" + Self.secretKey(key)))
            }
            if let file = entry["known_hosts_file"]?.stringValue {
                entry["known_hosts_file"] = .string(try secretFile(file, key: "known-hosts-" + Self.secretKey(key)))
            }
            for (field, prefix) in [("allowed_signers_file", "allowed-signers-"), ("gpg_keys_file", "gpg-keys-")] {
                guard var verify = entry["verify"]?.objectValue, let file = verify[field]?.stringValue else { continue }
                verify[field] = .string(try secretFile(file, key: prefix + Self.secretKey(key)))
                entry["verify"] = .object(verify)
            }
            entry["decryption"] = try decryption(entry["decryption"], owner: "repository \(key)", wireWhenMissing: true)
            if let url = entry["url"]?.stringValue, url.hasPrefix("file://") || !url.contains(":") {
                warnings.append(
                    "repository \(key) reads the local path \(url), which does not exist in the cluster; give it a "
                        + "remote URL")
            }
            return entry
        }
        switch config["github_configs"] {
        case .object(let repositories)?:
            var rewritten = JSONObject()
            for (key, value) in repositories.members {
                rewritten[key] = value
                if let entry = value.objectValue { rewritten[key] = .object(try rewrite(entry, key: key)) }
            }
            config["github_configs"] = .object(rewritten)
        case .array(let items)?:
            var rewritten: [JSONValue] = []
            for (index, item) in items.enumerated() {
                guard let entry = item.objectValue else {
                    rewritten.append(item)
                    continue
                }
                let key = entry["key"]?.stringValue ?? entry["repo_name"]?.stringValue ?? "repo\(index)"
                rewritten.append(.object(try rewrite(entry, key: key)))
            }
            config["github_configs"] = .array(rewritten)
        default:
            break
        }
        if case .array(var services)? = config["services"] {
            for index in services.indices {
                guard var service = services[index].objectValue, service["decryption"] != nil else { continue }
                let name = service["name"]?.stringValue ?? "service\(index)"
                service["decryption"] = try decryption(
                    service["decryption"], owner: "service \(name)", wireWhenMissing: false)
                services[index] = .object(service)
            }
            config["services"] = .array(services)
        }
        if let url = config["webhook_url"]?.stringValue {
            secrets["WHERRY_WEBHOOK_URL"] = Array(url.utf8)
            config["webhook_url"] = Optional<JSONValue>.none
            config["webhook_url_env"] = "WHERRY_WEBHOOK_URL"
        }
        if let name = config["api_token_env"]?.stringValue { fromEnvironment(name, "the manual sync API token") }
        if let name = config["webhook_secret_env"]?.stringValue { fromEnvironment(name, "the GitHub webhook secret") }
        if config["state_dir"] != nil { config["state_dir"] = Optional<JSONValue>.none }
        // The installed file is always gitops-config.yaml: without this, the controller would be instance
        // `gitops-config` while `wherry sync -c prod.yaml` on a laptop is `prod`, and each would refuse the other's
        // inventories. The instance the config file's own name gives is written down.
        if config["instance"] == nil {
            config["instance"] = .string(WherryConfig.defaultInstance(file: configFile))
        }
        if let directory = config["artifacts_dir"]?.stringValue {
            warnings.append(
                "artifacts_dir \(directory) must exist inside the Pod; mount a volume there (the install does not)")
        }
        if config["applyer"]?.stringValue == "kubectl" {
            warnings.append("the kubectl applier needs an image with kubectl; the default image has none")
        }
        let configYAML = YAMLWriter.document(.object(config))
        var objects = [namespace(options), serviceAccount(options)]
        objects += roles(options)
        objects.append(configMap(configYAML, options: options))
        objects.append(secret(secrets, options: options))
        if let size = options.stateVolumeSize, !options.daemonSet { objects.append(claim(size, options: options)) }
        objects.append(workload(options))
        objects.append(service(options))
        return InstallPlan(objects: objects, warnings: warnings)
    }

    /// A Secret key from a repository key.
    static func secretKey(_ key: String) -> String {
        String(key.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
    }
}
