import Testing
import WherryModel
import WherryRender

@Suite("YAML scalars resolve as Kubernetes tooling reads them")
struct YAMLReaderTests {
    private func value(_ yaml: String) throws -> JSONValue {
        let docs = try YAMLReader.documents("v: \(yaml)\n", file: "t.yaml")
        return try #require(docs.first??.json["v"])
    }

    @Test(
        "YAML 1.1 traps keep their YAML 1.2 meaning",
        arguments: [
            ("on", JSONValue.string("on")), ("off", .string("off")), ("yes", .string("yes")), ("no", .string("no")),
            ("y", .string("y")), ("~", .null), ("null", .null), ("", .null), ("true", .bool(true)),
            ("False", .bool(false)), ("0755", .int(493)), ("0o755", .int(493)), ("0x1F", .int(31)),
            ("1e3", .double(1000)), ("1.5", .double(1.5)), ("-7", .int(-7)), ("+3", .int(3)), ("012.5", .double(12.5)),
            ("09", .double(9)), ("1_000", .string("1_000")), ("1:20", .string("1:20")), ("v1.2", .string("v1.2")),
            ("2001-12-14", .string("2001-12-14")), ("'0755'", .string("0755")), ("\"on\"", .string("on")),
            ("!!str 0755", .string("0755")), ("!!int \"42\"", .int(42)), ("!!float 1", .double(1)),
            ("9223372036854775807", .int(Int64.max)), ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ])
    func scalar(written: String, expected: JSONValue) throws {
        #expect(try value(written) == expected)
    }

    @Test("a key spelled on stays the string key on")
    func keyOn() throws {
        let doc = try #require(try YAMLReader.documents("on: push\nyes: 1\n", file: "k.yaml").first ?? nil)
        #expect(doc.json["on"] == .string("push"))
        #expect(doc.json["yes"] == .int(1))
    }

    @Test("values JSON cannot carry are errors with their location")
    func infinity() throws {
        let error = try #require(throws: YAMLError.self) { try YAMLReader.documents("a: 1\nb: .inf\n", file: "x.yaml") }
        #expect(error.location == SourceLocation(file: "x.yaml", line: 2, column: 4))
        #expect(error.message.contains("quote it"))
    }

    @Test("duplicate keys are reported at the second key")
    func duplicateKeys() throws {
        let error = try #require(throws: YAMLError.self) {
            try YAMLReader.documents("metadata:\n  name: a\n  name: b\n", file: "d.yaml")
        }
        #expect(error.message.contains("duplicate key 'name'"))
        #expect(error.location.file == "d.yaml")
        #expect(error.location.line >= 2)
    }

    @Test("syntax errors carry line and column")
    func syntaxError() throws {
        let error = try #require(throws: YAMLError.self) {
            try YAMLReader.documents("a: 1\nb: [1, 2\nc: 3\n", file: "s.yaml")
        }
        #expect(error.location.file == "s.yaml")
        #expect(error.location.line >= 2)
        #expect(error.message.hasPrefix("invalid YAML"))
    }

    @Test("anchors, aliases and merge keys expand")
    func mergeKeys() throws {
        let yaml = "base: &b\n  a: 1\n  b: 2\nderived:\n  <<: *b\n  b: 3\n"
        let doc = try #require(try YAMLReader.documents(yaml, file: "m.yaml").first ?? nil)
        #expect(doc.json["derived"] == ["a": 1, "b": 3])
    }

    @Test("unknown tags are refused")
    func unknownTag() throws {
        let error = try #require(throws: YAMLError.self) { try YAMLReader.documents("a: !Ref thing\n", file: "t.yaml") }
        #expect(error.message.contains("unsupported YAML tag"))
    }

    @Test("empty documents are kept as nil so indices match what the author wrote")
    func emptyDocuments() throws {
        let docs = try YAMLReader.documents("---\n# only a comment\n---\na: 1\n---\n", file: "e.yaml")
        // The trailing `---` opens a third, empty document.
        #expect(docs.count == 3)
        #expect(docs[0] == nil)
        #expect(docs[1]?.json == ["a": 1])
        #expect(docs[2] == nil)
    }
}

extension YAMLValue? {
    static func == (lhs: YAMLValue?, rhs: YAMLValue?) -> Bool {
        lhs?.json == rhs?.json
    }
}
