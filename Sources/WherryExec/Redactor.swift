/// Removes secrets from text before it reaches a log, an error or a terminal.
public struct Redactor: Sendable {
    /// The replacement for every secret.
    public static let mask = "***"
    private let secrets: [String]

    /// Secrets shorter than 4 characters are ignored: masking them would mangle ordinary text.
    public init(secrets: [String]) {
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    /// The text with every secret replaced by ``mask``.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: Self.mask)
        }
        return result
    }
}
