import WherryModel
import WherryRender

/// Reads typed fields out of one YAML map, recording every problem with its location instead of stopping.
struct FieldReader {
    let map: YAMLValue
    /// Path of the map for messages, e.g. `services[1]`.
    let path: String

    init(_ map: YAMLValue, path: String) {
        self.map = map
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Location of a key, or of the map when the key is absent.
    func location(_ key: String) -> SourceLocation {
        map.entries?.first { $0.key == key }?.keyLocation ?? map.location
    }

    func has(_ key: String) -> Bool { map[key] != nil && !(map[key]?.isNull ?? true) }

    func string(_ key: String, required: Bool = false, issues: inout [ConfigIssue]) -> String? {
        guard let value = map[key], !value.isNull else {
            if required {
                issues.append(.init(.error, map.location, "missing required key '\(name(key))'"))
            }
            return nil
        }
        switch value.json {
        case .string(let text):
            if required && text.isEmpty {
                issues.append(.init(.error, value.location, "'\(name(key))' must not be empty"))
                return nil
            }
            return text
        case .int(let number):
            // The seed wrote `branch: 2024` style values unquoted; a number where a string is wanted is fine.
            return String(number)
        default:
            issues.append(
                .init(.error, value.location, "'\(name(key))' must be a string, found \(value.typeDescription)"))
            return nil
        }
    }

    func bool(_ key: String, default fallback: Bool, issues: inout [ConfigIssue]) -> Bool {
        guard let value = map[key], !value.isNull else { return fallback }
        guard case .bool(let flag) = value.json else {
            issues.append(
                .init(
                    .error, value.location, "'\(name(key))' must be true or false, found \(value.typeDescription)",
                    hint: "YAML words like yes/on are strings here; write true or false"))
            return fallback
        }
        return flag
    }

    /// Seconds, written as a whole number (`60`) or a duration (`90s`, `5m`, `1h30m`); must be positive (or zero,
    /// when `allowZero`: a switch-off).
    func seconds(_ key: String, allowZero: Bool = false, issues: inout [ConfigIssue]) -> Int? {
        guard let value = map[key], !value.isNull else { return nil }
        let parsed: Int?
        switch value.json {
        case .int(let number): parsed = Int(number)
        case .string(let text): parsed = Self.parseDuration(text)
        default: parsed = nil
        }
        guard let parsed else {
            issues.append(
                .init(
                    .error, value.location, "'\(name(key))' must be a number of seconds or a duration like 30s, 5m, 1h",
                    hint: "found \(value.typeDescription)"))
            return nil
        }
        guard parsed > 0 || (allowZero && parsed == 0) else {
            issues.append(
                .init(
                    .error, value.location, "'\(name(key))' must be positive, found \(parsed)", hint: "use at least 1"))
            return nil
        }
        return parsed
    }

    /// A nested map, read with its own reader; `nil` (and an issue) when the key holds something else.
    func map(_ key: String, issues: inout [ConfigIssue]) -> FieldReader? {
        guard let value = map[key], !value.isNull else { return nil }
        guard value.entries != nil else {
            issues.append(.init(.error, value.location, "'\(name(key))' must be a map, found \(value.typeDescription)"))
            return nil
        }
        return FieldReader(value, path: name(key))
    }

    /// A positive whole number.
    func count(_ key: String, issues: inout [ConfigIssue]) -> Int? {
        guard let value = map[key], !value.isNull else { return nil }
        guard case .int(let number) = value.json, number >= 0 else {
            issues.append(
                .init(.error, value.location, "'\(name(key))' must be a whole number, found \(value.typeDescription)"))
            return nil
        }
        return Int(number)
    }

    /// A positive number (whole or not).
    func number(_ key: String, issues: inout [ConfigIssue]) -> Double? {
        guard let value = map[key], !value.isNull else { return nil }
        switch value.json {
        case .int(let number) where number > 0: return Double(number)
        case .double(let number) where number > 0: return number
        case .string(let text) where Double(text).map { $0 > 0 } ?? false: return Double(text)
        default:
            issues.append(
                .init(
                    .error, value.location, "'\(name(key))' must be a positive number, found \(value.typeDescription)"))
            return nil
        }
    }

    func stringList(_ key: String, issues: inout [ConfigIssue]) -> [String] {
        guard let value = map[key], !value.isNull else { return [] }
        if case .string(let single) = value.json { return [single] }
        guard case .sequence(let items) = value.content else {
            issues.append(
                .init(.error, value.location, "'\(name(key))' must be a list of names, found \(value.typeDescription)"))
            return []
        }
        var result: [String] = []
        for item in items {
            guard let text = item.json.stringValue else {
                issues.append(
                    .init(
                        .error, item.location, "'\(name(key))' entries must be strings, found \(item.typeDescription)"))
                continue
            }
            result.append(text)
        }
        return result
    }

    /// Every key not in `known` is an error, with a "did you mean" when one is close.
    func rejectUnknown(known: [String], issues: inout [ConfigIssue], extraHint: (String) -> String? = { _ in nil }) {
        for entry in map.entries ?? [] where !known.contains(entry.key) {
            let hint =
                extraHint(entry.key)
                ?? Suggestion.closest(entry.key, in: known).map { "did you mean '\($0)'?" }
                ?? "known keys: \(known.joined(separator: ", "))"
            issues.append(.init(.error, entry.keyLocation, "unknown key '\(name(entry.key))'", hint: hint))
        }
    }

    /// `90`, `90s`, `5m`, `1h30m`, `2h` → seconds; `nil` for anything else.
    static func parseDuration(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int(trimmed) { return plain }
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in trimmed {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let amount = Int(digits) else { return nil }
            switch character {
            case "h": total += amount * 3600
            case "m": total += amount * 60
            case "s": total += amount
            default: return nil
            }
            digits = ""
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }
}
