import Testing
import WherryController

@Suite("Unified diffs")
struct UnifiedDiffTests {
    @Test("equal texts give no diff")
    func equal() {
        #expect(UnifiedDiff.lines(old: "a\nb\n", new: "a\nb\n", oldLabel: "x", newLabel: "y").isEmpty)
    }

    @Test("a changed line shows with its context and hunk header")
    func changed() {
        let old = (1...10).map { "line\($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "line5", with: "LINE5")
        #expect(
            UnifiedDiff.lines(old: old, new: new, oldLabel: "live", newLabel: "git") == """
                --- live
                +++ git
                @@ -2,7 +2,7 @@
                 line2
                 line3
                 line4
                -line5
                +LINE5
                 line6
                 line7
                 line8

                """)
    }

    @Test("a new object is all additions")
    func created() {
        let diff = UnifiedDiff.lines(old: "", new: "a: 1\nb: 2\n", oldLabel: "live", newLabel: "git")
        #expect(diff.contains("+a: 1\n+b: 2\n"))
    }

    @Test("a 10,000-line object diffs in linear space: common ends matched, the changed middle shown")
    func large() {
        let old = (0..<10_000).map { "line \($0)" }
        var new = old
        new[5] = "changed 5"
        new[9_990] = "changed 9990"
        let diff = UnifiedDiff.lines(
            old: old.joined(separator: "\n"), new: new.joined(separator: "\n"), oldLabel: "a", newLabel: "b")
        #expect(diff.contains("-line 5\n+changed 5\n"))
        #expect(diff.contains("-line 9990\n+changed 9990\n"))
        // Far apart, the two changes are two hunks.
        #expect(diff.components(separatedBy: "@@ -").count == 3)
    }

    @Test("a middle too large for a minimal diff is shown replaced whole, still a correct diff")
    func replacedWhole() {
        let old = (0..<12_000).map { "old \($0)" }.joined(separator: "\n")
        let new = (0..<12_000).map { "new \($0)" }.joined(separator: "\n")
        let diff = UnifiedDiff.lines(old: "head\n" + old, new: "head\n" + new, oldLabel: "a", newLabel: "b")
        let lines = diff.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("-old") }.count == 12_000)
        #expect(lines.filter { $0.hasPrefix("+new") }.count == 12_000)
        #expect(diff.contains("@@ -1,12001 +1,12001 @@\n head\n"))
    }
}
