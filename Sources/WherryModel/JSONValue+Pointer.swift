extension JSONValue {
    /// The reference tokens of an RFC 6901 JSON pointer (`/spec/replicas` → `["spec", "replicas"]`), unescaped.
    public static func pointerTokens(_ pointer: String) -> [String] {
        pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    /// The value without what `pointer` names; unchanged when it names nothing.
    public func removing(pointer: String) -> JSONValue {
        removing(tokens: Self.pointerTokens(pointer)[...])
    }

    private func removing(tokens: ArraySlice<String>) -> JSONValue {
        guard let token = tokens.first else { return self }
        switch self {
        case .object(var object):
            guard let child = object[token] else { return self }
            // Not a ternary: its `nil` would become JSONValue.null (JSONValue is ExpressibleByNilLiteral).
            if tokens.count == 1 {
                object[token] = Optional<JSONValue>.none
            } else {
                object[token] = child.removing(tokens: tokens.dropFirst())
            }
            return .object(object)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { return self }
            if tokens.count == 1 {
                items.remove(at: index)
            } else {
                items[index] = items[index].removing(tokens: tokens.dropFirst())
            }
            return .array(items)
        default:
            return self
        }
    }

    /// Whether every member and item `subset` sets is here with the same value: maps may hold more members,
    /// lists must hold the same number of items, each containing the other's. Numbers compare by value.
    public func contains(_ subset: JSONValue) -> Bool {
        switch (self, subset) {
        case (.object(let whole), .object(let part)):
            return part.members.allSatisfy { key, value in whole[key].map { $0.contains(value) } ?? false }
        case (.array(let whole), .array(let part)):
            return whole.count == part.count && zip(whole, part).allSatisfy { $0.contains($1) }
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        default:
            return self == subset
        }
    }
}
