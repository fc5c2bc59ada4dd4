import Testing
import WherryModel
import WherryRender

@Suite("Hostile YAML is bounded")
struct YAMLLimitsTests {
    /// A "billion laughs" file: nine levels of nine aliases expand to 9^9 values from twelve lines.
    static let aliasBomb: String = {
        var lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", "  a0: &a0 lol"]
        for level in 1...9 {
            lines.append(
                "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test("alias expansion is bounded: a billion-laughs file fails with its location")
    func aliasBomb() throws {
        let error = try #require(throws: YAMLError.self) { try YAMLReader.documents(Self.aliasBomb, file: "bomb.yaml") }
        #expect(error.location.file == "bomb.yaml")
        #expect(error.location.line > 0)
        #expect(error.message.contains("billion laughs"))
    }

    @Test("ordinary anchors and aliases still work")
    func ordinaryAliases() throws {
        let docs = try YAMLReader.documents("base: &b {x: 1}\nuse: *b\n", file: "a.yaml")
        #expect(docs.first??.json["use"] == ["x": 1])
    }
}
