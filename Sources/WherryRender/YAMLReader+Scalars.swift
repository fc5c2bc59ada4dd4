import WherryModel
import Yams

extension YAMLReader {
    private static let str = "tag:yaml.org,2002:str"
    private static let int = "tag:yaml.org,2002:int"
    private static let float = "tag:yaml.org,2002:float"
    private static let bool = "tag:yaml.org,2002:bool"
    private static let null = "tag:yaml.org,2002:null"
    private static let binary = "tag:yaml.org,2002:binary"
    private static let timestamp = "tag:yaml.org,2002:timestamp"

    /// Resolves one scalar to a JSON value, honouring explicit tags (`!!str 0755` stays a string).
    static func resolve(_ scalar: Node.Scalar, at here: SourceLocation) throws(YAMLError) -> JSONValue {
        let text = scalar.string
        let tag = scalar.tag.description
        switch tag {
        case "":
            return scalar.style == .plain ? try resolvePlain(text, at: here) : .string(text)
        case "!", str, binary, timestamp:
            return .string(text)
        case null:
            return .null
        case bool:
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: throw YAMLError(location: here, message: "'\(text)' is tagged !!bool but is not true or false")
            }
        case int:
            if let value = parseInteger(text) { return .int(value) }
            throw YAMLError(location: here, message: "'\(text)' is tagged !!int but is not an integer")
        case float:
            if let value = parseInteger(text) { return .double(Double(value)) }
            if let value = parseFloat(text) { return try finite(value, text: text, at: here) }
            throw YAMLError(location: here, message: "'\(text)' is tagged !!float but is not a number")
        default:
            throw YAMLError(
                location: here,
                message:
                    "unsupported YAML tag '\(tag)'; Kubernetes manifests take plain values (quote the value instead)")
        }
    }

    /// The YAML 1.2 core schema for untagged plain scalars, plus go-yaml v3's legacy octal (`0755`).
    static func resolvePlain(_ text: String, at here: SourceLocation) throws(YAMLError) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            throw YAMLError(
                location: here, message: "'\(text)' is not a number JSON can carry; quote it if you meant a string")
        default: break
        }
        guard let first = text.unicodeScalars.first, "0123456789+-.".unicodeScalars.contains(first) else {
            return .string(text)
        }
        if let value = parseInteger(text) { return .int(value) }
        if let value = parseFloat(text) { return try finite(value, text: text, at: here) }
        return .string(text)
    }

    private static func finite(_ value: Double, text: String, at here: SourceLocation) throws(YAMLError) -> JSONValue {
        guard value.isFinite else {
            throw YAMLError(location: here, message: "'\(text)' is too large for a JSON number; quote it")
        }
        return .double(value)
    }

    /// Decimal, `0o17`/`017` octal, `0x1F` hex and `0b101` binary integers with an optional sign.
    static func parseInteger(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty else { return nil }
        var radix = 10
        if body.count > 2, body.hasPrefix("0x") {
            radix = 16
            body = body.dropFirst(2)
        } else if body.count > 2, body.hasPrefix("0o") {
            radix = 8
            body = body.dropFirst(2)
        } else if body.count > 2, body.hasPrefix("0b") {
            radix = 2
            body = body.dropFirst(2)
        } else if body.count > 1, body.hasPrefix("0") {
            radix = 8
            body = body.dropFirst()
        }
        guard body.allSatisfy({ $0.isASCII && $0.isHexDigit }), let magnitude = UInt64(body, radix: radix) else {
            return nil
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the YAML 1.2 core float form.
    static func parseFloat(_ text: String) -> Double? {
        var chars = Substring(text)
        if let sign = chars.first, sign == "+" || sign == "-" { chars = chars.dropFirst() }
        let mantissaEnd = chars.firstIndex { $0 == "e" || $0 == "E" } ?? chars.endIndex
        let mantissa = chars[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !mantissa.isEmpty, mantissa != "." else { return nil }
        guard parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        if parts.count == 1, parts[0].isEmpty { return nil }
        if mantissaEnd != chars.endIndex {
            var exponent = chars[chars.index(after: mantissaEnd)...]
            if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, exponent.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        return Double(text)
    }
}
