import Foundation
import Logging
import WherryModel

/// One JSON object per line on stderr: `time`, `level`, `logger`, `message`, then metadata keys. A value that is a
/// number (an `Int`, a `Double`, or text that is exactly one, under a key that does not hold names) is a JSON
/// number; `true`/`false` are booleans.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        Self.write(level: event.level.rawValue, label: label, message: "\(event.message)", metadata: merged)
    }

    /// Writes one line, whatever the level (also what `wherry run` says outside swift-log: "listening on").
    static func write(level: String, label: String, message: String, metadata: Logger.Metadata = [:]) {
        var object = JSONObject()
        object["time"] = .string(Date().formatted(.iso8601))
        object["level"] = .string(level)
        object["logger"] = .string(label)
        object["message"] = .string(message)
        for key in metadata.keys.sorted() { object[key] = value(metadata[key]!, key: key) }
        LogOutput.write(JSONValue.object(object).jsonString())
    }

    /// Keys whose values are names, never numbers (a service called `123`).
    static let textKeys: Set<String> = [
        "wherry.service", "wherry.services", "wherry.dependency", "wherry.repo", "wherry.revision", "wherry.identity",
        "wherry.leader", "wherry.previous", "wherry.listen", "wherry.state_dir", "wherry.error", "wherry.hint",
    ]

    static func value(_ value: Logger.MetadataValue, key: String) -> JSONValue {
        switch value {
        case .string(let text):
            return textKeys.contains(key) ? .string(text) : scalar(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: return .int(Int64(number))
            case let number as Int64: return .int(number)
            case let number as Double: return .double(number)
            case let flag as Bool: return .bool(flag)
            default: return textKeys.contains(key) ? .string("\(convertible)") : scalar("\(convertible)")
            }
        case .array(let values):
            return .array(values.map { Self.value($0, key: key) })
        case .dictionary(let values):
            return .object(
                JSONObject(values.sorted { $0.key < $1.key }.map { ($0.key, Self.value($0.value, key: $0.key)) }))
        }
    }

    /// `42` → 42, `0.5` → 0.5, `true` → true; anything else (`007`, `1e3`, `abc`) stays text.
    static func scalar(_ text: String) -> JSONValue {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            digits.filter({ $0 == "." }).count <= 1, !digits.hasPrefix("."), !digits.hasSuffix("."),
            !(digits.hasPrefix("0") && digits.count > 1 && !digits.hasPrefix("0."))
        else { return .string(text) }
        if !digits.contains("."), let number = Int64(text) { return .int(number) }
        if digits.contains("."), let number = Double(text) { return .double(number) }
        return .string(text)
    }
}

/// swift-log's text format, with values quoted when they would break a `key=value` line: `key="two\nlines"`.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let pairs = merged.keys.sorted().map { "\($0)=\(Self.quoted("\(merged[$0]!)"))" }
        let time = Date().formatted(.iso8601)
        let line =
            "\(time) \(event.level) \(label): \(Self.escaped("\(event.message)"))"
            + (pairs.isEmpty ? "" : " " + pairs.joined(separator: " "))
        LogOutput.write(line)
    }

    /// The value as is when it is one plain word; else in double quotes with `\`, `"` and every control or format
    /// character escaped.
    static func quoted(_ value: String) -> String {
        let plain =
            !value.isEmpty && escaped(value) == value
            && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" }
        return plain ? value : "\"" + escaped(value).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Control characters escaped, scalar by scalar: a message or value never spans lines, moves the cursor or
    /// colours the terminal. Newline, carriage return and tab as `\n`, `\r`, `\t`; every other control (ESC, NUL,
    /// U+0085), format (U+200E, U+FEFF) or line/paragraph separator (U+2028, U+2029) character as `\u{XXXX}`.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator:
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Where every log line goes (stderr), one whole line at a time: lines written from several threads at once never
/// interleave.
enum LogOutput {
    private static let lock = NSLock()

    static func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        lock.withLock { FileHandle.standardError.write(data) }
    }
}
