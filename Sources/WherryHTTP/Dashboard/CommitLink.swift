/// Links to a commit on the forge a repository lives on: GitHub (`/commit/<sha>`) and GitLab (`/-/commit/<sha>`),
/// from any form of its URL (https, ssh, scp-like, with or without `.git`). Credentials never reach the link.
enum CommitLink {
    /// The commit's web page, or `nil` when the repository is not on GitHub or GitLab (or the revision is not a
    /// commit id).
    static func url(repository: String, revision: String) -> String? {
        guard revision.count >= 7, revision.allSatisfy(\.isHexDigit), let (host, path) = hostAndPath(repository)
        else { return nil }
        let lower = host.lowercased()
        if lower == "github.com" || lower == "www.github.com" { return "https://github.com/\(path)/commit/\(revision)" }
        if lower == "gitlab.com" || lower.hasPrefix("gitlab.") {
            return "https://\(lower)/\(path)/-/commit/\(revision)"
        }
        return nil
    }

    /// The commit link without the commit id (`https://github.com/o/r/commit/`), or `nil` off GitHub and GitLab.
    static func base(repository: String) -> String? {
        url(repository: repository, revision: "0000000").map { String($0.dropLast(7)) }
    }

    /// Host and `owner/name` path of a remote URL, with user info, port and `.git` dropped.
    static func hostAndPath(_ url: String) -> (String, String)? {
        var rest: Substring
        if let scheme = url.range(of: "://") {
            guard ["https", "http", "ssh", "git"].contains(url[..<scheme.lowerBound].lowercased()) else { return nil }
            rest = url[scheme.upperBound...]
        } else if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") {
            // scp-like: git@github.com:owner/name.git
            rest = url[..<colon] + "/" + url[url.index(after: colon)...]
        } else {
            return nil
        }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        var host = rest[..<slash]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        rest = rest[rest.index(after: slash)...]
        var path = String(rest).split(separator: "/").joined(separator: "/")
        if path.hasSuffix(".git") { path = String(path.dropLast(4)) }
        let safe = path.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
        guard !host.isEmpty, path.contains("/"), safe else { return nil }
        return (String(host), path)
    }
}
