/// "Did you mean …?" suggestions for mistyped keys and names.
public enum Suggestion {
    /// The candidate nearest to `word`, if it is near enough to be a likely typo.
    public static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    /// "did you mean 'x'? available contexts: a, b" for a name that is not among `candidates`.
    public static func hint(for word: String, in candidates: [String], kind: String) -> String {
        let sorted = candidates.sorted()
        guard !sorted.isEmpty else { return "no \(kind)s are defined" }
        let available = "available \(kind)s: \(sorted.joined(separator: ", "))"
        guard let closest = closest(word, in: sorted) else { return available }
        return "did you mean '\(closest)'? \(available)"
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}
