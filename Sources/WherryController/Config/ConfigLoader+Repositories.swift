import WherryModel
import WherryRender

extension ConfigLoader {
    static let repositoryKeys = [
        "repo_owner", "repo_name", "branch", "token", "url", "token_env", "token_file", "ssh_key_file",
        "known_hosts_file", "verify", "decryption",
    ]

    /// `github_configs` as a map (key → repo) or the older list (optional `key` per item).
    static func readRepositories(
        _ value: YAMLValue?, baseDirectory: String, issues: inout [ConfigIssue]
    )
        -> [RepositoryConfig]
    {
        guard let value, !value.isNull else { return [] }
        var repositories: [RepositoryConfig] = []
        switch value.content {
        case .mapping(let entries):
            for entry in entries {
                if let repository = readRepository(
                    entry.value, key: entry.key, path: "github_configs.\(entry.key)", known: repositoryKeys,
                    baseDirectory: baseDirectory, issues: &issues)
                {
                    repositories.append(repository)
                }
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() {
                let explicitKey = item["key"]?.json.stringValue
                if let repository = readRepository(
                    item, key: explicitKey, path: "github_configs[\(index)]", known: repositoryKeys + ["key"],
                    baseDirectory: baseDirectory, issues: &issues)
                {
                    if let first = repositories.first(where: { $0.key == repository.key }) {
                        issues.append(
                            ConfigIssue(
                                .error, item.location, "repository key '\(repository.key)' is used twice",
                                hint: "first at line \(first.location.line); give each entry its own key"))
                        continue
                    }
                    repositories.append(repository)
                }
            }
        default:
            issues.append(
                ConfigIssue(
                    .error, value.location,
                    "'github_configs' must be a map of repositories, found \(value.typeDescription)"))
        }
        return repositories
    }

    private static func readRepository(
        _ value: YAMLValue, key: String?, path: String, known: [String], baseDirectory: String,
        issues: inout [ConfigIssue]
    ) -> RepositoryConfig? {
        guard value.entries != nil else {
            issues.append(
                ConfigIssue(.error, value.location, "'\(path)' must be a map, found \(value.typeDescription)"))
            return nil
        }
        let reader = FieldReader(value, path: path)
        reader.rejectUnknown(known: known, issues: &issues)
        let hasURL = reader.has("url")
        let owner = reader.string("repo_owner", required: !hasURL, issues: &issues)
        let name = reader.string("repo_name", required: !hasURL, issues: &issues)
        let branch = reader.string("branch", issues: &issues) ?? "main"
        var url = reader.string("url", issues: &issues)
        if let given = url { url = resolveURL(given, base: baseDirectory) }
        guard let resolvedURL = url ?? (owner.flatMap { o in name.map { "https://github.com/\(o)/\($0).git" } }) else {
            return nil
        }
        if branch.isEmpty || branch.contains(" ") || branch.hasPrefix("-") {
            issues.append(ConfigIssue(.error, reader.location("branch"), "'\(path).branch' is not a valid branch name"))
        }
        let token = readToken(reader, path: path, baseDirectory: baseDirectory, issues: &issues)
        let sshKey = reader.string("ssh_key_file", issues: &issues).map { absolute($0, base: baseDirectory) }
        let knownHosts = reader.string("known_hosts_file", issues: &issues).map { absolute($0, base: baseDirectory) }
        if token != nil, sshKey != nil {
            issues.append(
                ConfigIssue(
                    .error, reader.location("ssh_key_file"), "'\(path)' sets both a token and ssh_key_file",
                    hint: "a token is for https:// URLs, an SSH key for ssh:// URLs; keep the one that matches url"))
        }
        if knownHosts != nil, sshKey == nil {
            issues.append(
                ConfigIssue(
                    .error, reader.location("known_hosts_file"), "'\(path).known_hosts_file' needs ssh_key_file"))
        }
        let derived = ownerAndName(fromURL: resolvedURL)
        var repository = RepositoryConfig(
            key: key ?? [owner ?? derived?.0, name ?? derived?.1].compactMap { $0 }.joined(separator: "/"),
            owner: owner ?? derived?.0, name: name ?? derived?.1, branch: branch, url: resolvedURL, token: token,
            sshKeyFile: sshKey, knownHostsFile: knownHosts, location: value.location)
        repository.verification = readVerification(reader, baseDirectory: baseDirectory, issues: &issues)
        repository.decryption = readDecryption(reader, baseDirectory: baseDirectory, issues: &issues)
        return repository
    }

    private static func readToken(
        _ reader: FieldReader, path: String, baseDirectory: String, issues: inout [ConfigIssue]
    ) -> TokenSource? {
        var sources: [TokenSource] = []
        // The seed sent an empty token as-is; an empty token means none.
        if let inline = reader.string("token", issues: &issues), !inline.isEmpty {
            sources.append(.inline(Secret(inline)))
            issues.append(
                ConfigIssue(
                    .warning, reader.location("token"), "'\(path).token' keeps a secret in the config file",
                    hint:
                        "anyone who can read this file or its ConfigMap can use the token; put it in an environment variable and write token_env: GITHUB_TOKEN, or in a mounted Secret file and write token_file: /etc/wherry/token"
                ))
        }
        if let name = reader.string("token_env", issues: &issues) { sources.append(.environment(name)) }
        if let file = reader.string("token_file", issues: &issues) {
            sources.append(.file(absolute(file, base: baseDirectory)))
        }
        if sources.count > 1 {
            issues.append(
                ConfigIssue(
                    .error, reader.map.location, "'\(path)' sets more than one of token, token_env and token_file",
                    hint: "keep one"))
        }
        return sources.first
    }

    /// Local paths (relative ones against the config's directory) become absolute; remote URLs stay as written.
    static func resolveURL(_ url: String, base: String) -> String {
        if url.contains("://") { return url }
        // scp-like `user@host:path`: a colon before any slash.
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") { return url }
        return absolute(url, base: base)
    }

    /// `owner` and `name` from the last two path segments of a URL, without `.git`.
    static func ownerAndName(fromURL url: String) -> (String, String)? {
        var path = url
        if let scheme = path.range(of: "://") {
            path = String(path[scheme.upperBound...])
            path = path.firstIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? ""
        } else if let colon = path.firstIndex(of: ":"), !path[..<colon].contains("/") {
            path = String(path[path.index(after: colon)...])
        }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        var name = parts[parts.count - 1]
        if name.hasSuffix(".git") { name.removeLast(4) }
        return (parts[parts.count - 2], name)
    }
}
