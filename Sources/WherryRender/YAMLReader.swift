import WherryModel
import Yams

/// Reads YAML (and JSON) text into located values, resolving scalars the way Kubernetes tooling does.
///
/// Plain scalars follow the YAML 1.2 core schema, as kustomize and Flux (go-yaml v3) read them: only
/// `true`/`false` are booleans, so `on`, `yes`, `no` and `off` stay strings; `~`, `null` and an empty value are
/// null; `1e3` is a number. Like go-yaml v3, a leading-zero integer such as `0755` is octal (493), because
/// that is what authors of `defaultMode: 0755` mean. Quoted scalars are always strings.
public enum YAMLReader {
    /// The most values (scalars, lists, maps) one text may expand to, unless the text itself is larger: aliases can
    /// make a few lines expand exponentially, and each value costs memory.
    public static let maxNodes = 1_000_000
    /// The largest manifest or config file read, in bytes.
    public static let maxFileBytes = 16 << 20

    /// Parses every document in `text`. An empty document (blank, comments only, or a trailing `---`) is `nil`,
    /// so callers can skip it and still count documents as the author wrote them.
    public static func documents(_ text: String, file: String) throws(YAMLError) -> [YAMLValue?] {
        do {
            let parser = try Parser(yaml: text, resolver: .basic)
            var documents: [YAMLValue?] = []
            // One budget for the whole text: aliases may point across documents' anchors only within one, but a
            // file of many small bombs must not add up either.
            var budget = max(maxNodes, text.utf8.count / 2)
            while let root = try parser.nextRoot() {
                let value = try convert(root, file: file, budget: &budget)
                documents.append(value.isNull && isEmptyScalar(root) ? nil : value)
            }
            return documents
        } catch let error as YAMLError {
            throw error
        } catch let error as YamlError {
            throw translate(error, file: file)
        } catch {
            throw YAMLError(location: SourceLocation(file: file), message: "\(error)")
        }
    }

    /// Parses text that must hold exactly one document (a config file). Empty text is an empty map.
    public static func single(_ text: String, file: String) throws(YAMLError) -> YAMLValue {
        let docs = try documents(text, file: file)
        let present = docs.compactMap { $0 }
        if present.count > 1 {
            throw YAMLError(
                location: present[1].location,
                message: "expected one YAML document, found \(present.count); remove the extra '---' sections")
        }
        return present.first ?? YAMLValue(content: .mapping([]), location: SourceLocation(file: file, line: 1))
    }

    private static func isEmptyScalar(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func location(_ mark: Mark?, file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    private static func convert(_ node: Node, file: String, budget: inout Int) throws(YAMLError) -> YAMLValue {
        let here = location(node.mark, file: file)
        budget -= 1
        guard budget >= 0 else {
            throw YAMLError(
                location: here,
                message:
                    "the YAML expands to more than \(maxNodes) values, so reading stopped here; aliases (*name) that "
                    + "repeat anchors many times over (a 'billion laughs' file) are refused: write the values out")
        }
        switch node {
        case .scalar(let scalar):
            return YAMLValue(content: .scalar(try resolve(scalar, at: here)), location: here)
        case .sequence(let sequence):
            var items: [YAMLValue] = []
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return YAMLValue(content: .sequence(items), location: here)
        case .mapping(let mapping):
            return YAMLValue(content: .mapping(try entries(of: mapping, file: file, budget: &budget)), location: here)
        case .alias(let alias):
            throw YAMLError(
                location: location(alias.mark, file: file), message: "unresolved YAML alias; define the anchor first")
        }
    }

    private static func entries(
        of mapping: Node.Mapping, file: String, budget: inout Int
    ) throws(YAMLError) -> [YAMLValue.Entry] {
        var entries: [YAMLValue.Entry] = []
        var merged: [YAMLValue.Entry] = []
        for (keyNode, valueNode) in mapping {
            let keyLocation = location(keyNode.mark, file: file)
            guard case .scalar(let keyScalar) = keyNode else {
                throw YAMLError(location: keyLocation, message: "a map key must be a string, not \(kindName(keyNode))")
            }
            // `<<: *base` merges another map's members in, as YAML 1.1 and go-yaml allow.
            // Yams resolves key tags while checking for duplicates, so an untagged `<<` may already read as !!str.
            if keyScalar.string == "<<", keyScalar.style == .plain,
                ["", "tag:yaml.org,2002:str"].contains(keyScalar.tag.description)
            {
                merged += try mergeEntries(valueNode, file: file, at: keyLocation, budget: &budget)
                continue
            }
            if let first = entries.first(where: { $0.key == keyScalar.string }) {
                throw YAMLError(
                    location: keyLocation,
                    message: "duplicate key '\(keyScalar.string)' (first at line \(first.keyLocation.line))")
            }
            entries.append(
                YAMLValue.Entry(
                    key: keyScalar.string, keyLocation: keyLocation,
                    value: try convert(valueNode, file: file, budget: &budget)))
        }
        for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
            entries.append(entry)
        }
        return entries
    }

    private static func mergeEntries(
        _ node: Node, file: String, at here: SourceLocation, budget: inout Int
    ) throws(YAMLError)
        -> [YAMLValue.Entry]
    {
        switch node {
        case .mapping(let mapping):
            return try entries(of: mapping, file: file, budget: &budget)
        case .sequence(let sequence):
            var result: [YAMLValue.Entry] = []
            for item in sequence {
                for entry in try mergeEntries(item, file: file, at: here, budget: &budget)
                where !result.contains(where: { $0.key == entry.key }) {
                    result.append(entry)
                }
            }
            return result
        default:
            throw YAMLError(location: here, message: "'<<' must merge a map or a list of maps")
        }
    }

    private static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a map"
        case .alias: "an alias"
        }
    }

    private static func translate(_ error: YamlError, file: String) -> YAMLError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text))" } ?? problem
            return YAMLError(location: location(mark, file: file), message: "invalid YAML: \(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return YAMLError(
                location: location(context.mark, file: file),
                message: "duplicate key '\(duplicates.first ?? "")' in a map; keep one of them")
        case .reader(let problem, _, _, _):
            return YAMLError(location: SourceLocation(file: file), message: "unreadable text: \(problem)")
        default:
            return YAMLError(location: SourceLocation(file: file), message: "invalid YAML: \(error)")
        }
    }
}
