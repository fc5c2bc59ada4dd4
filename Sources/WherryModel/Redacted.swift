/// A secret (a token, a password, a private key) that is never shown: its descriptions print `***` and its
/// mirror has no children, so neither `print`, `String(reflecting:)` nor `dump` can leak it.
public struct Redacted<Value: Sendable & Hashable>: Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable
{
    /// The secret itself; hand it only to what needs it (an HTTP header, a TLS key loader).
    public let value: Value

    public init(_ value: Value) { self.value = value }

    public var description: String { "***" }
    public var debugDescription: String { "Redacted(***)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
