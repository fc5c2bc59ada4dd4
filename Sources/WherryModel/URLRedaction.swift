/// The one place that hides the credentials a URL can carry before it is shown (a log, an error, the status API):
/// the user information (`user:password@`) of a URL with a scheme, and the values of query (and fragment)
/// parameters that hold a secret (`token`, `access_token`, `X-Amz-Signature`, `api_key`, …). Everything else is
/// kept as written. scp-like Git addresses (`git@host:path`) keep their user, which is not a secret.
///
/// It reads the text itself instead of parsing it as a URL, so a URL that a parser refuses cannot slip its secret
/// through.
public enum URLRedaction {
    /// What becomes of `user:password@`.
    public enum UserInfo: Sendable, Hashable {
        /// Left out: `https://host/path`.
        case remove
        /// Replaced by ``URLRedaction/mask``: `https://***@host/path`, which shows that credentials are set.
        case mask
    }

    /// What a secret is replaced with.
    public static let mask = "***"

    /// Parameter names (lower-case, `-` read as `_`) that are secrets however they are spelt.
    private static let secretNames: Set<String> = [
        "key", "sig", "code", "auth", "authorization", "pass", "pwd", "jwt", "session", "sessionid",
    ]
    /// Parts of parameter names that make a parameter a secret.
    private static let secretParts = [
        "token", "secret", "password", "passwd", "signature", "credential", "apikey", "api_key", "access_key",
        "private_key", "client_key",
    ]

    /// `url` without its credentials.
    public static func redact(_ url: String, userInfo: UserInfo = .remove) -> String {
        var result = ""
        var rest = Substring(url)
        if let schemeEnd = url.firstRange(of: "://"), isScheme(url[..<schemeEnd.lowerBound]) {
            result += url[..<schemeEnd.upperBound]
            rest = url[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                if userInfo == .mask { result += mask + "@" }
                rest = rest[rest.index(after: at)...]
            }
        }
        let fragmentStart = rest.firstIndex(of: "#")
        let beforeFragment = rest[..<(fragmentStart ?? rest.endIndex)]
        if let queryStart = beforeFragment.firstIndex(of: "?") {
            result += beforeFragment[...queryStart]
            result += redactParameters(beforeFragment[beforeFragment.index(after: queryStart)...])
        } else {
            result += beforeFragment
        }
        if let fragmentStart {
            result += "#"
            result += redactParameters(rest[rest.index(after: fragmentStart)...])
        }
        return result
    }

    /// Whether a query parameter of this name holds a secret (`token`, `X-Amz-Signature`, `client_secret`, …).
    public static func isSecretParameter(_ name: String) -> Bool {
        let normalized = percentDecoded(name).lowercased().replacing("-", with: "_")
        if secretNames.contains(normalized) { return true }
        return secretParts.contains { normalized.contains($0) }
    }

    /// `name=value` pairs separated by `&` or `;`, with the values of secret names masked; other text as written.
    private static func redactParameters(_ parameters: Substring) -> String {
        var result = ""
        var pair = ""
        for character in parameters {
            if character == "&" || character == ";" {
                result += redactPair(pair) + String(character)
                pair = ""
            } else {
                pair.append(character)
            }
        }
        return result + redactPair(pair)
    }

    /// One `name=value`, its value masked when the name is a secret's and the value is not empty.
    private static func redactPair(_ pair: String) -> String {
        guard let equals = pair.firstIndex(of: "="), pair.index(after: equals) < pair.endIndex,
            isSecretParameter(String(pair[..<equals]))
        else { return pair }
        return String(pair[...equals]) + mask
    }

    /// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    /// `%XX` escapes decoded (a malformed one is kept as written), so `access%5Ftoken` is seen as `access_token`.
    private static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
