import Testing
import WherryModel

@Suite("Apply order and change sets")
struct ApplyOrderTests {
    private func object(_ kind: String, _ name: String, namespace: String = "") -> KubeObject {
        var body: JSONObject = ["apiVersion": "v1", "kind": .string(kind), "metadata": ["name": .string(name)]]
        if !namespace.isEmpty { body["metadata"]?["namespace"] = .string(namespace) }
        return KubeObject(body: body)
    }

    @Test("CRDs and Namespaces first, workloads after config, custom resources after kinds we know, webhooks last")
    func order() {
        let objects = [
            object("ValidatingWebhookConfiguration", "hook"), object("Widget", "w", namespace: "a"),
            object("Deployment", "api", namespace: "a"), object("ConfigMap", "b", namespace: "a"),
            object("ConfigMap", "a", namespace: "a"), object("Namespace", "a"),
            object("CustomResourceDefinition", "widgets"),
            object("ServiceAccount", "sa", namespace: "a"), object("ClusterRole", "r"),
        ]
        #expect(
            ApplyOrder.sorted(objects).map(\.ref.description) == [
                "CustomResourceDefinition/widgets", "Namespace/a", "ClusterRole/r", "ServiceAccount/a/sa",
                "ConfigMap/a/a",
                "ConfigMap/a/b", "Deployment/a/api", "Widget/a/w", "ValidatingWebhookConfiguration/hook",
            ])
        #expect(ApplyOrder.sortedForDeletion(objects).first?.kind == "ValidatingWebhookConfiguration")
        #expect(ApplyOrder.sortedForDeletion(objects).last?.kind == "CustomResourceDefinition")
    }

    @Test("a change set counts and summarises its actions")
    func changeSet() {
        let ref = ObjectRef(group: "", kind: "ConfigMap", namespace: "a", name: "b")
        var changes = ChangeSet(entries: [
            ChangeSetEntry(ref: ref, action: .unchanged), ChangeSetEntry(ref: ref, action: .created),
            ChangeSetEntry(ref: ref, action: .unchanged),
        ])
        #expect(changes.summary == "1 created, 2 unchanged")
        #expect(changes.hasChanges)
        #expect(changes.entries[1].description == "ConfigMap/a/b created")
        changes.entries.remove(at: 1)
        #expect(!changes.hasChanges)
        #expect(ChangeSet().summary == "no objects")
    }
}
