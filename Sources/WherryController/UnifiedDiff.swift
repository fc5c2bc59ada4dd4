/// A line diff in unified format, for `wherry diff`.
public enum UnifiedDiff {
    /// The unified diff from `old` to `new` with `context` lines around each change; empty when equal.
    public static func lines(old: String, new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let edits = script(a, b)
        guard edits.contains(where: { $0.kind != .same }) else { return "" }
        var out = "--- \(oldLabel)\n+++ \(newLabel)\n"
        var index = 0
        while index < edits.count {
            guard let firstChange = edits[index...].firstIndex(where: { $0.kind != .same }) else { break }
            let start = max(firstChange - context, index)
            var end = firstChange
            // Extend the hunk while changes are closer than two contexts apart.
            var cursor = firstChange
            while cursor < edits.count {
                if edits[cursor].kind != .same {
                    end = cursor
                    cursor += 1
                } else if let next = edits[cursor...].firstIndex(where: { $0.kind != .same }), next - end <= 2 * context
                {
                    cursor = next
                } else {
                    break
                }
            }
            let stop = min(end + context + 1, edits.count)
            let hunk = edits[start..<stop]
            let oldStart = (hunk.first { $0.oldLine != nil }?.oldLine ?? 0) + 1
            let newStart = (hunk.first { $0.newLine != nil }?.newLine ?? 0) + 1
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
            for edit in hunk {
                switch edit.kind {
                case .same: out += " \(edit.text)\n"
                case .delete: out += "-\(edit.text)\n"
                case .insert: out += "+\(edit.text)\n"
                }
            }
            index = stop
        }
        return out
    }

    private enum Kind { case same, delete, insert }

    private struct Edit {
        var kind: Kind
        var text: String
        var oldLine: Int?
        var newLine: Int?
    }

    /// Most lines (old plus new) of the differing middle given a minimal diff; larger ones are shown replaced whole.
    static let maxMinimalLines = 20_000

    /// An edit script from `a` to `b`, in memory linear in the input. Common leading and trailing lines are matched
    /// first; the middle gets a minimal script from the standard library's Myers difference (time grows with the
    /// number of differing lines), or, past ``maxMinimalLines``, is shown replaced whole (still a correct diff).
    private static func script(_ a: [String], _ b: [String]) -> [Edit] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        let middleA = a[prefix..<(a.count - suffix)]
        let middleB = b[prefix..<(b.count - suffix)]
        var removed = Set<Int>()
        var inserted = Set<Int>()
        if middleA.count + middleB.count <= maxMinimalLines {
            for change in middleB.difference(from: middleA) {
                switch change {
                case .remove(let offset, _, _): removed.insert(prefix + offset)
                case .insert(let offset, _, _): inserted.insert(prefix + offset)
                }
            }
        } else {
            removed = Set(middleA.indices)
            inserted = Set(middleB.indices)
        }
        var edits: [Edit] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                // Deletions before insertions, as diff(1) prints them.
                edits.append(Edit(kind: .delete, text: a[i], oldLine: i, newLine: nil))
                i += 1
            } else if j < b.count, inserted.contains(j) {
                edits.append(Edit(kind: .insert, text: b[j], oldLine: nil, newLine: j))
                j += 1
            } else {
                edits.append(Edit(kind: .same, text: a[i], oldLine: i, newLine: j))
                i += 1
                j += 1
            }
        }
        return edits
    }
}
