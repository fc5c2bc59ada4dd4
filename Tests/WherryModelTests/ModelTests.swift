import Testing
import WherryModel

@Suite("Model values")
struct ModelTests {
    @Test("objects keep key order but compare without it")
    func objectOrder() {
        var a = JSONObject()
        a["z"] = 1
        a["a"] = 2
        var b = JSONObject()
        b["a"] = 2
        b["z"] = 1
        #expect(a.keys == ["z", "a"])
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        a["z"] = nil
        #expect(a.keys == ["a"])
        a["a"] = 3
        #expect(a.keys == ["a"])
    }

    @Test("JSON text keeps order, integers and escapes")
    func json() {
        let value: JSONValue = ["b": 1, "a": [true, nil, 1.5, 2.0, "q\"\n\u{01}"]]
        #expect(value.jsonString() == #"{"b":1,"a":[true,null,1.5,2,"q\"\n\u0001"]}"#)
        #expect(JSONValue.int(3) != JSONValue.double(3))
    }

    @Test("object references print as Kind/namespace/name")
    func refs() {
        var object = KubeObject(body: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "api"]])
        #expect(object.ref.description == "Deployment/api")
        object.namespace = "web"
        #expect(object.ref == ObjectRef(group: "apps", kind: "Deployment", namespace: "web", name: "api"))
        #expect(object.ref.description == "Deployment/web/api")
        #expect(object.groupVersionKind == GroupVersionKind(group: "apps", version: "v1", kind: "Deployment"))
        #expect(GroupVersionKind(apiVersion: "v1", kind: "Pod").apiVersion == "v1")
    }

    @Test("ownership labels are added without dropping existing ones")
    func labels() {
        var object = KubeObject(body: [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "labels": ["app": "x"]],
        ])
        object.setLabels(WherryLabels.ownership(service: "shop"))
        #expect(object.labels == ["app": "x", WherryLabels.managedBy: "wherry", WherryLabels.service: "shop"])
        #expect(
            object.body["metadata"]?["labels"]?.objectValue?.keys == [
                "app", "app.kubernetes.io/managed-by", "wherry.dev/service",
            ])
    }
}

@Suite("JSON parsing")
struct JSONParsingTests {
    @Test("parses every JSON form, keeping order and integer-ness")
    func parses() throws {
        let text =
            #"{"b": [1, -2, 3.5, 1e2, true, false, null], "a": {"s": "x\"\\\/\n\u00e9\ud83d\ude80"}, "big": 92233720368547758080}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.keys == ["b", "a", "big"])
        #expect(value["b"] == [1, -2, 3.5, 100.0, true, false, nil])
        #expect(value["a"]?["s"] == .string("x\"\\/\né🚀"))
        #expect(value["big"] == .double(92_233_720_368_547_758_080))
        // Integral doubles are written as integers (an int32 field rejects 100.0), so they come back as ints.
        #expect(JSONValue.double(100).jsonString() == "100")
        let reparsed = try JSONValue.parse(value.jsonString())
        #expect(reparsed["b"] == [1, -2, 3.5, 100, true, false, nil])
        #expect(reparsed["a"] == value["a"])
        #expect(try JSONValue.parse(reparsed.jsonString()) == reparsed)
    }

    @Test(
        "rejects malformed text with an offset",
        arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "1.", "\"\\x\"", "1 2", "01x"])
    func rejects(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }
}
