import WherryModel

/// Helpers for Git remote URLs.
public enum GitURL {
    /// The URL without the credentials it may embed (``URLRedaction``): tokens in URLs never reach output.
    /// scp-like `git@host:path` addresses keep their user, which is not a secret.
    public static func redacted(_ url: String) -> String { URLRedaction.redact(url) }

    /// The password or token embedded in a URL's user part, if any (to scrub it from git's messages).
    static func embeddedSecret(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authority = afterScheme[..<(afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex)]
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userInfo = authority[..<at]
        if let colon = userInfo.firstIndex(of: ":") { return String(userInfo[userInfo.index(after: colon)...]) }
        return String(userInfo)
    }

    /// `scheme://host[:port]/` for `http(s)` URLs: the scope git uses for `http.<url>.*` settings.
    static func httpScope(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return nil }
        let clean = redacted(url)
        guard let schemeEnd = clean.range(of: "://") else { return nil }
        let rest = clean[schemeEnd.upperBound...]
        let host = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
        return String(clean[..<schemeEnd.upperBound]) + host + "/"
    }

    /// A directory name for a remote's cache: readable prefix plus a stable hash, so two URLs never share one.
    static func cacheKey(_ url: String, branch: String) -> String {
        let clean = redacted(url)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(clean)#\(branch)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let tail = clean.split(separator: "/").last.map(String.init) ?? "repo"
        let readable = String(tail.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(40))
        let hex = String(hash, radix: 16)
        return readable + "-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
