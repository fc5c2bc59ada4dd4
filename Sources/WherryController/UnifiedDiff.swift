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

    /// Largest table (lines × lines of the part that differs) used for a minimal diff: 4 M cells, 16 MB.
    static let maxTableCells = 4_000_000

    /// An edit script from `a` to `b`. Common leading and trailing lines are matched first, in linear space; the
    /// middle gets a minimal script by longest common subsequence while its table stays under ``maxTableCells``,
    /// and is otherwise shown as replaced whole (still a correct diff, and memory stays linear in the input).
    private static func script(_ a: [String], _ b: [String]) -> [Edit] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        var edits: [Edit] = (0..<prefix).map { Edit(kind: .same, text: a[$0], oldLine: $0, newLine: $0) }
        let middleA = Array(a[prefix..<(a.count - suffix)])
        let middleB = Array(b[prefix..<(b.count - suffix)])
        if middleA.count * middleB.count <= maxTableCells {
            edits += minimalScript(middleA, middleB, offsetA: prefix, offsetB: prefix)
        } else {
            edits += middleA.enumerated().map { Edit(kind: .delete, text: $1, oldLine: prefix + $0, newLine: nil) }
            edits += middleB.enumerated().map { Edit(kind: .insert, text: $1, oldLine: nil, newLine: prefix + $0) }
        }
        for index in 0..<suffix {
            let (i, j) = (a.count - suffix + index, b.count - suffix + index)
            edits.append(Edit(kind: .same, text: a[i], oldLine: i, newLine: j))
        }
        return edits
    }

    /// The shortest edit script by longest common subsequence, in one flat table of 32-bit counts.
    private static func minimalScript(_ a: [String], _ b: [String], offsetA: Int, offsetB: Int) -> [Edit] {
        let width = b.count + 1
        var lcs = [Int32](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i * width + j] =
                    a[i] == b[j]
                    ? lcs[(i + 1) * width + j + 1] + 1 : max(lcs[(i + 1) * width + j], lcs[i * width + j + 1])
            }
        }
        var edits: [Edit] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(Edit(kind: .same, text: a[i], oldLine: offsetA + i, newLine: offsetB + j))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
                // Deletions before insertions, as diff(1) prints them.
                edits.append(Edit(kind: .delete, text: a[i], oldLine: offsetA + i, newLine: nil))
                i += 1
            } else {
                edits.append(Edit(kind: .insert, text: b[j], oldLine: nil, newLine: offsetB + j))
                j += 1
            }
        }
        return edits
    }
}
