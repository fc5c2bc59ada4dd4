import Testing
import WherryModel

@Suite("Inventory")
struct InventoryTests {
    private func entry(_ apiVersion: String, _ kind: String, _ namespace: String, _ name: String) -> InventoryEntry {
        let group = GroupVersionKind(apiVersion: apiVersion, kind: kind).group
        return InventoryEntry(
            ref: ObjectRef(group: group, kind: kind, namespace: namespace, name: name), apiVersion: apiVersion)
    }

    @Test("the stored form reads back the same, and bad lines are reported by number")
    func roundTrip() {
        let inventory = Inventory([
            entry("apps/v1", "Deployment", "web", "api"), entry("v1", "Namespace", "", "web"),
            entry("example.com/v1alpha1", "Widget", "web", "w"),
        ])
        #expect(inventory.text.contains("apps/v1 Deployment web/api\n"))
        #expect(inventory.text.contains("v1 Namespace web\n"))
        let (parsed, bad) = Inventory.parse(inventory.text + "\nnot an entry\n")
        #expect(parsed == inventory)
        #expect(bad == [5])
        #expect(parsed.entries.first { $0.ref.kind == "Widget" }?.ref.group == "example.com")
    }

    @Test("what left is previous minus now, by identity: a new apiVersion is not a removal")
    func difference() {
        let previous = Inventory([
            entry("apps/v1beta2", "Deployment", "web", "api"), entry("v1", "ConfigMap", "web", "old"),
            entry("v1", "Service", "web", "api"),
        ])
        let now = Inventory([entry("apps/v1", "Deployment", "web", "api"), entry("v1", "Service", "web", "api")])
        #expect(previous.subtracting(now).map(\.description) == ["ConfigMap/web/old"])
        let merged = previous.merging(now)
        #expect(merged.count == 3)
        #expect(merged.entries.first { $0.ref.kind == "Deployment" }?.apiVersion == "apps/v1")
    }

    @Test("duplicates collapse; the same namespace and name in another kind is another object")
    func identity() {
        let inventory = Inventory([
            entry("v1", "ConfigMap", "a", "x"), entry("v1", "ConfigMap", "a", "x"), entry("v1", "Secret", "a", "x"),
            entry("v1", "ConfigMap", "b", "x"),
        ])
        #expect(inventory.count == 3)
        var object = entry("v1", "ConfigMap", "a", "x").object
        object.namespace = ""
        #expect(object.body["metadata"] == ["name": "x"])
        #expect(object.ref.namespace.isEmpty)
    }

    @Test("JSON pointers remove fields, escaped tokens included; containment ignores extra members")
    func pointersAndContainment() throws {
        let object: JSONValue = [
            "spec": ["replicas": 3, "template": ["a/b": 1, "c~d": 2]], "items": [1, 2, 3],
        ]
        #expect(object.removing(pointer: "/spec/replicas")["spec"] == ["template": ["a/b": 1, "c~d": 2]])
        #expect(object.removing(pointer: "/spec/template/a~1b")["spec"]?["template"] == ["c~d": 2])
        #expect(object.removing(pointer: "/spec/template/c~0d")["spec"]?["template"] == ["a/b": 1])
        #expect(object.removing(pointer: "/items/1")["items"] == [1, 3])
        #expect(object.removing(pointer: "/missing/deeper") == object)
        let live: JSONValue = ["spec": ["replicas": 3, "paused": false, "template": ["a/b": 1, "c~d": 2]]]
        #expect(live.contains(["spec": ["replicas": 3]]))
        #expect(!live.contains(["spec": ["replicas": 2]]))
        #expect(!live.contains(["spec": ["other": 1]]))
        #expect(JSONValue.array([1, 2]).contains([1, 2]))
        #expect(!JSONValue.array([1, 2, 3]).contains([1, 2]))
        #expect(JSONValue.double(1).contains(1))
    }
}
