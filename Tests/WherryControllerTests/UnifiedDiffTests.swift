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
}
