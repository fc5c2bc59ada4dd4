public import WherryGit

extension RepositoryConfig {
    /// One sentence for a git failure about credentials or trust, naming where this repository's credentials come
    /// from and what to check; `nil` when the failure is about something else. git's own words ("could not read
    /// Username … terminal prompts disabled", "Host key verification failed") say neither.
    public func explain(_ error: GitError) -> String? {
        let text = error.message.lowercased()
        if text.contains("host key verification failed") || text.contains("no matching host key")
            || text.contains("remote host identification has changed")
        {
            let file = knownHostsFile ?? "~/.ssh/known_hosts"
            let host = Self.sshHost(url) ?? "the server"
            let port = Self.sshPort(url)
            let scan = port.map { "ssh-keyscan -p \($0) \(host)" } ?? "ssh-keyscan \(host)"
            return "the SSH host key of \(host) is not trusted (it is not in \(file), or it changed); check its "
                + "fingerprint, then add it: \(scan) >> \(file) (known_hosts_file sets the file)"
        }
        if text.contains("permission denied (publickey") {
            let key = sshKeyFile.map { "the key \($0) (ssh_key_file)" } ?? "the SSH key"
            return "the SSH server refused \(key); add its public key to the repository (a deploy key) or check "
                + "ssh_key_file"
        }
        guard error.kind == .authenticationFailed else { return nil }
        let status = text.contains("error: 403") ? 403 : 401
        guard let token else {
            return "the remote asks for credentials (HTTP \(status)) and repository \(key) has none; set token_env "
                + "or token_file on it (or use an SSH URL with ssh_key_file)"
        }
        let source =
            switch token {
            case .environment(let name): "token_env \(name)"
            case .file(let path): "token_file \(path)"
            case .inline: "the token written in the config"
            }
        return "the remote refused the credentials from \(source) (HTTP \(status)); check the token and its "
            + "repository access"
    }

    /// The port of `ssh://git@host:2222/o/r.git` when it is not 22; `nil` otherwise (scp-like URLs have none).
    static func sshPort(_ url: String) -> String? {
        guard url.hasPrefix("ssh://") else { return nil }
        var rest = url.dropFirst("ssh://".count)
        if let at = rest.firstIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        guard let authority = rest.split(separator: "/").first else { return nil }
        let parts = authority.split(separator: ":")
        guard parts.count == 2, parts[1] != "22", parts[1].allSatisfy(\.isNumber) else { return nil }
        return String(parts[1])
    }

    /// `github.com` of `git@github.com:o/r.git` or `ssh://git@github.com:22/o/r.git`; `nil` for other URLs.
    static func sshHost(_ url: String) -> String? {
        if url.hasPrefix("ssh://") {
            var rest = url.dropFirst("ssh://".count)
            if let at = rest.firstIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            return rest.split(separator: "/").first.map { String($0.split(separator: ":").first ?? $0) }
        }
        guard !url.contains("://"), let colon = url.firstIndex(of: ":") else { return nil }
        var host = url[..<colon]
        if let at = host.firstIndex(of: "@") { host = host[host.index(after: at)...] }
        return host.isEmpty ? nil : String(host)
    }
}
