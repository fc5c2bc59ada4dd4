/// A Kubernetes label selector in its string form: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
/// `k notin (a,b)`, joined by commas (AND).
struct LabelSelector: Sendable, Hashable {
    /// What one requirement asks of a label.
    enum Operator: Sendable, Hashable {
        case equals(String)
        case notEquals(String)
        case exists
        case doesNotExist
        case `in`(Set<String>)
        case notIn(Set<String>)
    }

    /// One requirement: a key and what its value must be.
    struct Requirement: Sendable, Hashable {
        var key: String
        var op: Operator

        /// Whether the labels meet the requirement; `!=` and `notin` match objects without the label.
        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals(let expected): return value == expected
            case .notEquals(let unwanted): return value != unwanted
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .in(let values): return value.map(values.contains) ?? false
            case .notIn(let values): return value.map { !values.contains($0) } ?? true
            }
        }
    }

    /// All requirements; an empty selector matches everything.
    var requirements: [Requirement]

    /// Parses a selector string; the error text is the reason.
    init(parsing text: String) throws(APIStatusError) {
        requirements = []
        for part in Self.splitTopLevel(text) {
            let trimmed = part.trimmed
            if trimmed.isEmpty, text[...].trimmed.isEmpty { continue }
            requirements.append(try Self.requirement(trimmed, selector: text))
        }
    }

    /// Whether the labels meet every requirement.
    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// Parses one requirement.
    private static func requirement(_ text: Substring, selector: String) throws(APIStatusError) -> Requirement {
        func fail(_ why: String) -> APIStatusError {
            .badRequest("unable to parse requirement: \(why) in label selector \"\(selector)\"")
        }
        if text.hasPrefix("!") {
            let key = text.dropFirst().trimmed
            guard isValidKey(key) else { throw fail("invalid label key \"\(key)\"") }
            return Requirement(key: String(key), op: .doesNotExist)
        }
        let keyEnd = text.firstIndex { " \t=!(".contains($0) } ?? text.endIndex
        let key = text[..<keyEnd]
        guard isValidKey(key) else { throw fail("invalid label key \"\(key)\"") }
        let rest = text[keyEnd...].trimmed
        if rest.isEmpty { return Requirement(key: String(key), op: .exists) }
        for (token, make) in [("==", Operator.equals), ("!=", Operator.notEquals), ("=", Operator.equals)]
        where rest.hasPrefix(token) {
            let value = rest.dropFirst(token.count).trimmed
            guard isValidValue(value) else { throw fail("invalid label value \"\(value)\"") }
            return Requirement(key: String(key), op: make(String(value)))
        }
        for (word, isIn) in [("notin", false), ("in", true)] where rest.hasPrefix(word) {
            let list = rest.dropFirst(word.count).trimmed
            guard list.hasPrefix("("), list.hasSuffix(")"), list.count >= 2 else {
                throw fail("found '\(list)', expected: '('")
            }
            let values = list.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
                .map(\.trimmed)
            guard !values.isEmpty, values.allSatisfy(isValidValue) else { throw fail("invalid values \(list)") }
            let set = Set(values.map(String.init))
            return Requirement(key: String(key), op: isIn ? .in(set) : .notIn(set))
        }
        throw fail("found '\(rest)', expected: in, notin, =, ==, !=")
    }

    /// Splits on commas outside parentheses.
    private static func splitTopLevel(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for index in text.indices {
            switch text[index] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(text[start..<index])
                start = text.index(after: index)
            default: break
            }
        }
        parts.append(text[start...])
        return parts
    }

    /// A label key: an optional DNS prefix and `/`, then a name.
    private static func isValidKey(_ key: Substring) -> Bool {
        !key.isEmpty && key.count <= 316
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._/".contains($0)) }
    }

    /// A label value: at most 63 of alphanumerics, `-`, `_`, `.`; may be empty.
    private static func isValidValue(_ value: Substring) -> Bool {
        value.count <= 63 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
    }
}

/// Trimming for selector parsing.
extension Substring {
    /// The text without surrounding spaces and tabs.
    var trimmed: Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }) else { return self[endIndex...] }
        let last = lastIndex { $0 != " " && $0 != "\t" }!
        return self[first...last]
    }
}
