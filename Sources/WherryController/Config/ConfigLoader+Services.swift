import WherryKube
import WherryModel
import WherryRender

extension ConfigLoader {
    static let serviceKeys = [
        "name", "github", "repo", "k8s_yaml_dir", "namespace", "prune", "suspend", "interval", "depends_on", "timeout",
        "wait", "stateless", "allow_empty", "prune_propagation", "create_namespace", "drift_interval",
        "ignore_differences", "retry", "config_dir", "download_base_url", "decryption",
    ]

    /// `services[]`. A legacy `repo:` URL adds a repository when no `github_configs` entry matches it.
    static func readServices(
        _ value: YAMLValue?, repositories: inout [RepositoryConfig], declaredKeys: [String],
        downloadBaseURL: String?, baseDirectory: String = "", issues: inout [ConfigIssue]
    ) -> [ServiceConfig] {
        guard let value, !value.isNull else { return [] }
        guard case .sequence(let items) = value.content else {
            issues.append(
                ConfigIssue(
                    .error, value.location, "'services' must be a list of services, found \(value.typeDescription)"))
            return []
        }
        var services: [ServiceConfig] = []
        var dependencyLocations: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            guard item.entries != nil else {
                issues.append(
                    ConfigIssue(
                        .error, item.location, "'services[\(index)]' must be a map, found \(item.typeDescription)"))
                continue
            }
            let reader = FieldReader(item, path: "services[\(index)]")
            reader.rejectUnknown(known: serviceKeys, issues: &issues)
            let name = reader.string("name", required: true, issues: &issues)
            let directory = reader.string("k8s_yaml_dir", required: true, issues: &issues)
            let repository = resolveRepository(
                reader, repositories: &repositories, declaredKeys: declaredKeys, issues: &issues)
            let namespace = reader.string("namespace", issues: &issues)
            var service = ServiceConfig(
                name: name ?? "",
                repository: repository ?? "",
                directory: directory ?? "",
                namespace: namespace,
                prune: reader.bool("prune", default: true, issues: &issues),
                suspend: reader.bool("suspend", default: false, issues: &issues),
                interval: reader.seconds("interval", issues: &issues),
                dependsOn: reader.stringList("depends_on", issues: &issues),
                timeout: reader.seconds("timeout", issues: &issues),
                wait: reader.bool("wait", default: false, issues: &issues),
                stateless: reader.has("stateless"),
                location: item.location)
            readConvergence(reader, into: &service, issues: &issues)
            readSeedFeatures(reader, into: &service, topLevelDownloadURL: downloadBaseURL, issues: &issues)
            service.decryption = readDecryption(reader, baseDirectory: baseDirectory, issues: &issues)
            if let name {
                checkServiceName(name, at: reader.location("name"), issues: &issues)
                if let first = services.first(where: { $0.name == name }) {
                    issues.append(
                        ConfigIssue(
                            .error, reader.location("name"), "service name '\(name)' is used twice",
                            hint: "first at line \(first.location.line); service names must be unique"))
                }
            }
            if let directory {
                checkDirectory(directory, key: "k8s_yaml_dir", at: reader.location("k8s_yaml_dir"), issues: &issues)
            }
            if let namespace, !isDNSLabel(namespace) {
                issues.append(
                    ConfigIssue(
                        .error, reader.location("namespace"), "'\(namespace)' is not a valid namespace name",
                        hint: "use lower-case letters, digits and '-', at most 63 characters"))
            }
            dependencyLocations[service.name] = reader.location("depends_on")
            services.append(service)
        }
        checkDependencies(services, locations: dependencyLocations, issues: &issues)
        return services
    }

    /// The repository key a service reads from: `github:` (preferred, as in the seed) or a legacy `repo:` URL.
    private static func resolveRepository(
        _ reader: FieldReader, repositories: inout [RepositoryConfig], declaredKeys: [String],
        issues: inout [ConfigIssue]
    ) -> String? {
        let github = reader.string("github", issues: &issues)
        let legacy = reader.string("repo", issues: &issues)
        if let github {
            if legacy != nil {
                issues.append(
                    ConfigIssue(
                        .warning, reader.location("repo"),
                        "'\(reader.name("repo"))' is ignored because 'github' is set",
                        hint: "remove one of them"))
            }
            guard declaredKeys.contains(github) || repositories.contains(where: { $0.key == github }) else {
                let keys = declaredKeys
                let hint =
                    Suggestion.closest(github, in: keys).map { "did you mean '\($0)'?" }
                    ?? (keys.isEmpty ? "add it under github_configs" : "known keys: \(keys.joined(separator: ", "))")
                issues.append(
                    ConfigIssue(
                        .error, reader.location("github"), "'\(github)' is not a key of github_configs", hint: hint))
                return nil
            }
            return github
        }
        if let legacy {
            guard legacy.contains("://") || legacy.contains("@"), let (owner, name) = ownerAndName(fromURL: legacy)
            else {
                issues.append(
                    ConfigIssue(
                        .error, reader.location("repo"), "'\(legacy)' is not a repository URL",
                        hint: "write it as https://github.com/<owner>/<repo>"))
                return nil
            }
            // The seed took branch and token from a matching github_configs entry; use it when there is one.
            if let match = repositories.first(where: {
                $0.owner?.lowercased() == owner.lowercased() && $0.name?.lowercased() == name.lowercased()
            }) {
                return match.key
            }
            let key = "\(owner)/\(name)"
            if !repositories.contains(where: { $0.key == key }) {
                let url = legacy.hasSuffix(".git") ? legacy : legacy.trimmingSuffix("/") + ".git"
                repositories.append(
                    RepositoryConfig(
                        key: key, owner: owner, name: name, branch: "main", url: url, token: nil, sshKeyFile: nil,
                        knownHostsFile: nil, location: reader.location("repo")))
            }
            return key
        }
        issues.append(
            ConfigIssue(
                .error, reader.map.location, "'\(reader.path)' names no repository",
                hint: "add github: <key of github_configs>, or repo: https://github.com/<owner>/<repo>"))
        return nil
    }

    /// `config_dir`, and `stateless: true` or `stateless: {image, command, attempts}` with the download base URL
    /// of the service or the top level.
    static func readSeedFeatures(
        _ reader: FieldReader, into service: inout ServiceConfig, topLevelDownloadURL: String?,
        issues: inout [ConfigIssue]
    ) {
        if let directory = reader.string("config_dir", issues: &issues) {
            checkDirectory(directory, key: "config_dir", at: reader.location("config_dir"), issues: &issues)
            service.configDirectory = directory
        }
        let downloadURL = reader.string("download_base_url", issues: &issues) ?? topLevelDownloadURL
        guard let value = reader.map["stateless"], !value.isNull else {
            service.stateless = false
            return
        }
        var mutation = StatelessMutation(service: service.name, downloadBaseURL: downloadURL ?? "")
        if case .bool(let on) = value.json {
            service.stateless = on
            if !on { return }
        } else if let options = reader.map("stateless", issues: &issues) {
            options.rejectUnknown(known: ["image", "command", "attempts"], issues: &issues)
            if let image = options.string("image", issues: &issues) { mutation.image = image }
            if let text = options.string("command", issues: &issues) {
                if let command = StatelessMutation.Command(rawValue: text) {
                    mutation.command = command
                } else {
                    issues.append(
                        ConfigIssue(
                            .error, options.location("command"), "'\(text)' is not a stateless command mode",
                            hint: "use when-unset (default), init or keep"))
                }
            }
            if let attempts = options.count("attempts", issues: &issues) { mutation.attempts = max(1, attempts) }
        } else {
            return
        }
        service.stateless = true
        guard let downloadURL, downloadURL.hasPrefix("http://") || downloadURL.hasPrefix("https://") else {
            issues.append(
                ConfigIssue(
                    .error, reader.location("stateless"),
                    "service '\(service.name)' is stateless but has no http(s) download_base_url",
                    hint: "set download_base_url at the top level or on the service, e.g. the URL of wherry run's "
                        + "artifact server"))
            return
        }
        service.statelessMutation = mutation
    }

    /// The keys of prune, drift, retry and namespace creation.
    private static func readConvergence(
        _ reader: FieldReader, into service: inout ServiceConfig, issues: inout [ConfigIssue]
    ) {
        service.allowEmpty = reader.bool("allow_empty", default: false, issues: &issues)
        service.createNamespace = reader.bool("create_namespace", default: false, issues: &issues)
        if service.createNamespace, service.namespace == nil {
            issues.append(
                ConfigIssue(
                    .error, reader.location("create_namespace"), "'create_namespace' needs 'namespace' on the service",
                    hint: "add namespace: <name>"))
        }
        if let text = reader.string("prune_propagation", issues: &issues) {
            if let policy = DeleteOptions.Propagation(
                rawValue: text.prefix(1).uppercased() + text.dropFirst().lowercased())
            {
                service.prunePropagation = policy
            } else {
                issues.append(
                    ConfigIssue(
                        .error, reader.location("prune_propagation"), "'\(text)' is not a propagation policy",
                        hint: "use background (default), foreground or orphan"))
            }
        }
        if let interval = reader.seconds("drift_interval", allowZero: true, issues: &issues) {
            service.driftInterval = interval
        }
        service.ignoreDifferences = readIgnoreRules(reader, issues: &issues)
        if let retry = reader.map("retry", issues: &issues) {
            retry.rejectUnknown(known: ["limit", "backoff"], issues: &issues)
            var policy = RetryPolicy.standard
            policy.limit = retry.count("limit", issues: &issues)
            if let backoff = retry.map("backoff", issues: &issues) {
                backoff.rejectUnknown(known: ["duration", "factor", "max_duration"], issues: &issues)
                if let duration = backoff.seconds("duration", issues: &issues) { policy.duration = Double(duration) }
                if let factor = backoff.number("factor", issues: &issues) { policy.factor = factor }
                if let maximum = backoff.seconds("max_duration", issues: &issues) {
                    policy.maxDuration = Double(maximum)
                }
            }
            service.retry = policy
        }
    }

    /// `ignore_differences: [{group?, kind, name?, namespace?, json_pointers: [...]}]`.
    private static func readIgnoreRules(_ reader: FieldReader, issues: inout [ConfigIssue]) -> [IgnoreRule] {
        guard let value = reader.map["ignore_differences"], !value.isNull else { return [] }
        guard case .sequence(let items) = value.content else {
            issues.append(
                ConfigIssue(
                    .error, value.location, "'\(reader.name("ignore_differences"))' must be a list of rules",
                    hint: "e.g. - {kind: Deployment, json_pointers: [/spec/replicas]}"))
            return []
        }
        var rules: [IgnoreRule] = []
        for (index, item) in items.enumerated() {
            guard item.entries != nil else {
                issues.append(ConfigIssue(.error, item.location, "each ignore_differences rule must be a map"))
                continue
            }
            let rule = FieldReader(item, path: reader.name("ignore_differences[\(index)]"))
            rule.rejectUnknown(known: ["group", "kind", "name", "namespace", "json_pointers"], issues: &issues)
            let kind = rule.string("kind", required: true, issues: &issues)
            let pointers = rule.stringList("json_pointers", issues: &issues)
            if pointers.isEmpty {
                issues.append(
                    ConfigIssue(
                        .error, rule.map.location, "'\(rule.name("json_pointers"))' must list at least one pointer"))
            }
            for pointer in pointers where !pointer.hasPrefix("/") || pointer == "/" {
                issues.append(
                    ConfigIssue(
                        .error, rule.location("json_pointers"), "'\(pointer)' is not a JSON pointer to a field",
                        hint: "write it like /spec/replicas"))
            }
            if let kind {
                rules.append(
                    IgnoreRule(
                        group: rule.string("group", issues: &issues), kind: kind,
                        name: rule.string("name", issues: &issues),
                        namespace: rule.string("namespace", issues: &issues),
                        jsonPointers: pointers))
            }
        }
        return rules
    }

    private static func checkServiceName(_ name: String, at location: SourceLocation, issues: inout [ConfigIssue]) {
        // The name is the value of the wherry.dev/service label, so it must be a valid label value.
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        let edges =
            name.first.map { $0.isLetter || $0.isNumber } == true
            && name.last.map { $0.isLetter || $0.isNumber } == true
        guard !(allowed && edges && name.count <= 63) else { return }
        issues.append(
            ConfigIssue(
                .error, location, "service name '\(name)' cannot be a Kubernetes label value",
                hint:
                    "use letters, digits, '-', '_' or '.', starting and ending with a letter or digit, at most 63 characters"
            ))
    }

    private static func checkDirectory(
        _ directory: String, key: String, at location: SourceLocation, issues: inout [ConfigIssue]
    ) {
        if directory.hasPrefix("/") {
            issues.append(
                ConfigIssue(
                    .error, location, "'\(key)' must be relative to the repository root, found '\(directory)'",
                    hint: "drop the leading '/'"))
        } else if directory.split(separator: "/").contains("..") {
            issues.append(ConfigIssue(.error, location, "'\(key)' must stay inside the repository; remove '..'"))
        }
    }

    private static func checkDependencies(
        _ services: [ServiceConfig], locations: [String: SourceLocation], issues: inout [ConfigIssue]
    ) {
        let names = Set(services.map(\.name))
        for service in services {
            for dependency in service.dependsOn where !names.contains(dependency) || dependency == service.name {
                let message =
                    dependency == service.name
                    ? "service '\(service.name)' depends on itself"
                    : "service '\(service.name)' depends on unknown service '\(dependency)'"
                let hint = Suggestion.closest(dependency, in: Array(names)).map { "did you mean '\($0)'?" }
                issues.append(
                    ConfigIssue(.error, locations[service.name] ?? service.location, message, hint: hint))
            }
        }
        // A cycle would block every service in it forever.
        var state: [String: Int] = [:]
        let byName = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func visit(_ name: String, _ path: [String]) -> [String]? {
            if state[name] == 1 { return path + [name] }
            if state[name] == 2 { return nil }
            state[name] = 1
            for dependency in byName[name]?.dependsOn ?? [] where dependency != name && byName[dependency] != nil {
                if let cycle = visit(dependency, path + [name]) { return cycle }
            }
            state[name] = 2
            return nil
        }
        for service in services where state[service.name] == nil {
            if let cycle = visit(service.name, []) {
                issues.append(
                    ConfigIssue(
                        .error, locations[service.name] ?? service.location,
                        "depends_on forms a cycle: \(cycle.joined(separator: " -> "))", hint: "remove one dependency"))
                return
            }
        }
    }

    static func isDNSLabel(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 63, text.first != "-", text.last != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var result = self
        while result.last == suffix { result.removeLast() }
        return result
    }
}
