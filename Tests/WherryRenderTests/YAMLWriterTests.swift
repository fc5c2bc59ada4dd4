import Foundation
import Testing
import WherryExec
import WherryModel
import WherryRender

@Suite("YAML output reads back to the same values")
struct YAMLWriterTests {
    static let tricky: JSONValue = [
        "strings": [
            "on", "off", "yes", "no", "y", "n", "true", "null", "~", "", " padded ", "0755", "1e3", "1:20", "-", "- x",
            "a: b", "a #b", "#c", "@at", "`tick", "*star", "&amp", "!bang", "%pc", "[x]", "{y}", "quote\"d",
            "back\\slash",
            "tab\there", "ümlaut", "emoji 🚀", "nul\u{01}", "2001-12-14", ".5", "+1", "=", "<<", "key:",
            "ends with space ",
            "nginx:1.27", "http://x.y/z?a=b#c",
        ],
        "multiline": ["line1\nline2\n", "no newline\nat end", "keep\n\n\n", " leading\nspace\n", "trailing \nspace\n"],
        "numbers": [0, -1, 9_223_372_036_854_775_807, 1.5, 1e300, 0.1, 100.0],
        "bools": [true, false],
        "null": nil,
        "empty": ["map": [:], "list": []],
        "nested": [["a": 1, "b": ["c": [1, 2]]], [[1, 2], [3]]],
        "on": "key that YAML 1.1 reads as true",
        "0755": "numeric-looking key",
    ]

    @Test("writing then reading gives back every value exactly")
    func roundTrip() throws {
        let text = YAMLWriter.document(Self.tricky)
        let read = try #require(try YAMLReader.documents(text, file: "out.yaml").first ?? nil)
        #expect(read.json == Self.tricky)
    }

    @Test("key order is kept")
    func keyOrder() {
        let text = YAMLWriter.document(["zeta": 1, "alpha": 2, "mid": 3])
        #expect(text == "zeta: 1\nalpha: 2\nmid: 3\n")
    }

    @Test("a YAML 1.1 reader (PyYAML) reads the output as the same values")
    func yaml11Reader() async throws {
        let text = YAMLWriter.document(Self.tricky)
        let script = "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), ensure_ascii=False))"
        let result = try await CommandRunner.run(Command("python3", ["-c", script], input: Array(text.utf8)))
        #expect(result.succeeded, "python3 with PyYAML is needed: \(result.stderr)")
        let read = try #require(try YAMLReader.documents(result.stdoutText, file: "pyyaml.json").first ?? nil)
        #expect(read.json == Self.tricky)
    }

    @Test("streams start each object with --- and a source comment")
    func stream() {
        let object = KubeObject(
            body: JSONObject(
                [("apiVersion", "v1"), ("kind", "Namespace"), ("metadata", ["name": "a"])] as [(String, JSONValue)]),
            source: SourceLocation(file: "ns.yaml", line: 1, column: 1))
        let text = YAMLWriter.stream([object]) { $0.source?.description }
        #expect(text == "---\n# Source: ns.yaml:1:1\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n")
    }
}
