import Testing
import WherryModel
import WherryRender

@Suite("Manifest documents become validated objects")
struct ManifestReaderTests {
    @Test("a trailing --- and empty documents are skipped")
    func trailingSeparator() throws {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n"
        let objects = try ManifestReader.objects(from: text, file: "a.yaml")
        #expect(objects.map(\.ref.description) == ["ConfigMap/a"])
    }

    @Test("every missing field is reported with file, line and document index")
    func missingFields() throws {
        let text = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: ok
            ---
            kind: Service
            metadata:
              name: no-version
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              namespace: x
            ---
            - just
            - a list
            """
        let failure = try #require(throws: RenderFailure.self) {
            try ManifestReader.objects(from: text, file: "m.yaml")
        }
        let messages = failure.issues.map(\.description)
        #expect(messages.count == 3)
        #expect(messages[0].hasPrefix("m.yaml:6:1: document 2: missing 'apiVersion'"))
        #expect(messages[1].hasPrefix("m.yaml:13:3: document 3: missing 'metadata.name'"))
        #expect(messages[2].hasPrefix("m.yaml:15:1: document 4: expected a Kubernetes object"))
    }

    @Test("label values must be strings, with a hint to quote")
    func numericLabel() throws {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    version: 2\n"
        let failure = try #require(throws: RenderFailure.self) {
            try ManifestReader.objects(from: text, file: "l.yaml")
        }
        #expect(
            failure.issues.first?.description
                == "l.yaml:6:14: document 1: 'metadata.labels.version' must be a string, found an integer; quote it")
    }

    @Test("a v1 List is expanded into its items")
    func listKind() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: ConfigMap
                metadata: {name: a}
              - apiVersion: v1
                kind: ConfigMap
                metadata: {name: b}
            """
        let objects = try ManifestReader.objects(from: text, file: "list.yaml")
        #expect(objects.map(\.name) == ["a", "b"])
    }

    @Test("JSON manifests are read too")
    func json() throws {
        let text =
            #"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"}, "spec": {"ports": [{"port": 80}]}}"#
        let object = try #require(try ManifestReader.objects(from: text, file: "s.json").first)
        #expect(object.ref.description == "Service/n/s")
        #expect(object.body["spec"]?["ports"] == [["port": 80]])
    }

    @Test("generateName is refused because it cannot be applied declaratively")
    func generateName() throws {
        let text = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: run-\n"
        let failure = try #require(throws: RenderFailure.self) {
            try ManifestReader.objects(from: text, file: "j.yaml")
        }
        #expect(failure.description.contains("generateName"))
    }
}
