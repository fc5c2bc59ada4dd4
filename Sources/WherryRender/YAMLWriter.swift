public import WherryModel

/// Writes JSON values as block-style YAML that any YAML 1.1 or 1.2 reader (kubectl included) reads back to the
/// same values: strings that could be taken for anything else are quoted, multi-line strings use `|` blocks.
public enum YAMLWriter {
    /// One document, without a leading `---`.
    public static func document(_ value: JSONValue) -> String {
        var out = ""
        switch value {
        case .object(let object) where !object.isEmpty:
            writeMembers(object, indent: 0, into: &out)
        case .array(let items) where !items.isEmpty:
            writeItems(items, indent: 0, into: &out)
        default:
            out += scalar(value, indent: 0) + "\n"
        }
        return out
    }

    /// Objects as a multi-document stream; each document starts with `---` and an optional `# Source:` comment.
    public static func stream(_ objects: [KubeObject], sourceComment: (KubeObject) -> String? = { _ in nil }) -> String
    {
        var out = ""
        for object in objects {
            out += "---\n"
            if let comment = sourceComment(object) { out += "# Source: \(comment)\n" }
            out += document(.object(object.body))
        }
        return out
    }

    private static func writeMembers(_ object: JSONObject, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in object.members {
            out += pad + quoteIfNeeded(key) + ":"
            writeNested(value, indent: indent, sequenceIndent: indent, into: &out)
        }
    }

    private static func writeItems(_ items: [JSONValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .object(let object) where !object.isEmpty:
                // The first member shares the dash's line; the rest align under it.
                var first = ""
                writeMembers(object, indent: indent + 2, into: &first)
                out += pad + "- " + first.dropFirst(indent + 2)
            case .array(let nested) where !nested.isEmpty:
                var inner = ""
                writeItems(nested, indent: indent + 2, into: &inner)
                out += pad + "- " + inner.dropFirst(indent + 2)
            default:
                out += pad + "- " + scalar(item, indent: indent + 2) + "\n"
            }
        }
    }

    private static func writeNested(_ value: JSONValue, indent: Int, sequenceIndent: Int, into out: inout String) {
        switch value {
        case .object(let object) where !object.isEmpty:
            out += "\n"
            writeMembers(object, indent: indent + 2, into: &out)
        case .array(let items) where !items.isEmpty:
            out += "\n"
            writeItems(items, indent: sequenceIndent, into: &out)
        default:
            out += " " + scalar(value, indent: indent + 2) + "\n"
        }
    }

    private static func scalar(_ value: JSONValue, indent: Int) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): formatDouble(number)
        case .string(let text): literalBlock(text, indent: indent) ?? quoteIfNeeded(text)
        case .array: "[]"
        case .object: "{}"
        }
    }

    private static func formatDouble(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? ".nan" : (value < 0 ? "-.inf" : ".inf") }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        // YAML 1.1 readers (kubectl's among them) need a dot in the mantissa: 1e+300 would read as a string.
        let text = "\(value)"
        guard let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }), !text[..<exponent].contains(".")
        else { return text }
        return text[..<exponent] + ".0" + text[exponent...]
    }

    /// A `|` block for multi-line text that a block can carry exactly; `nil` when quoting is safer.
    private static func literalBlock(_ text: String, indent: Int) -> String? {
        guard text.contains("\n") else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let printable = text.unicodeScalars.allSatisfy { $0 == "\n" || ($0.value >= 0x20 && $0.value != 0x7F) }
        // Trailing spaces on a line and a leading space on the first line do not survive every reader.
        let safe =
            printable && !(lines.first?.hasPrefix(" ") ?? false)
            && !lines.contains { $0.hasSuffix(" ") || $0.hasSuffix("\t") }
        guard safe else { return nil }
        var body = lines
        var chomp = "-"
        if text.hasSuffix("\n") {
            body.removeLast()
            chomp = body.last?.isEmpty == true ? "+" : ""
        }
        if chomp == "+" {
            while body.last?.isEmpty == true { body.removeLast() }
            // A keep block must hold the trailing empty lines exactly as they were.
            let trailing = lines.count - 1 - body.count
            body += Array(repeating: "", count: trailing)
        }
        let pad = String(repeating: " ", count: indent)
        return "|" + chomp + body.map { $0.isEmpty ? "\n" : "\n" + pad + $0 }.joined()
    }

    /// Plain when unambiguous in both YAML 1.1 and 1.2; double-quoted (JSON escapes) otherwise.
    static func quoteIfNeeded(_ text: String) -> String {
        if isSafePlain(text) { return text }
        var out = ""
        JSONValueQuoting.quote(text, into: &out)
        return out
    }

    private static let reservedWords: Set<String> = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "=", "<<",
    ]

    private static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        if reservedWords.contains(text) { return false }
        // Anything that starts like a number, a sign or an indicator is quoted: it may read as one.
        if "0123456789+-.:?,[]{}#&*!|>'\"%@`~ ".unicodeScalars.contains(first) { return false }
        if last == " " || last == ":" { return false }
        if text.contains(": ") || text.contains(" #") { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x20 && scalar.value != 0x7F && scalar != "\t"
                && (scalar.value < 0x80 || scalar.value > 0x9F)
        }
    }
}

/// JSON string quoting shared with ``JSONValue``'s serialiser; YAML double-quoted strings accept JSON escapes.
enum JSONValueQuoting {
    static func quote(_ text: String, into out: inout String) {
        out += JSONValue.string(text).jsonString()
    }
}
