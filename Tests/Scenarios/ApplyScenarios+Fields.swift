import Foundation
import Testing
public import WherryKube
public import WherryModel

/// Scenarios about what the server does with the fields Wherry sends: write-only and rewritten fields (a Secret's
/// `stringData`, a pod spec's deprecated `serviceAccount`), atomic maps changed by hand, fields left to other
/// controllers, and deleting only what Wherry owns.
extension ApplyScenarios {
    /// A Secret with its values in `stringData`.
    public func secret(_ name: String, password: String) -> KubeObject {
        parse(
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)"},"stringData":{"password":"\#(password)"}}"#
        )
    }

    /// A Deployment whose pod template names its service account with the deprecated `serviceAccount`.
    public func deployment(serviceAccount: String, replicas: Int = 1, tier: String = "web") -> KubeObject {
        parse(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"tier":"\#(tier)"}},"spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"serviceAccount":"\#(serviceAccount)","containers":[{"name":"web","image":"registry.k8s.io/pause:3.9"}]}}}}"#
        )
    }

    static func base64(_ text: String) -> JSONValue { .string(Data(text.utf8).base64EncodedString()) }

    func options(driftCheck: Bool = false, dryRun: Bool = false, ignoring pointers: [String] = []) -> ApplySetOptions {
        var options = options()
        options.driftCheck = driftCheck
        options.dryRun = dryRun
        if !pointers.isEmpty { options.ignoredPointers = { ref in ref.kind == "Deployment" ? pointers : [] } }
        return options
    }

    /// Git changes a Secret value given in `stringData`: diff, dry run and sync all see the change, the cluster gets
    /// the new value, and applying it again writes nothing (also in a drift check).
    public func changedStringDataIsApplied() async throws {
        let path = "/api/v1/namespaces/\(namespace)/secrets/creds"
        _ = try await manager.apply([namespaceObject, secret("creds", password: "old")], options: options())
        #expect(try await api.get(path)["data"]?["password"] == Self.base64("old"))
        let changed = [namespaceObject, secret("creds", password: "new")]

        let diffs = try await manager.diff(changed, options: options())
        #expect(diffs.first { $0.ref.kind == "Secret" }?.action == .configured)
        let dryRun = try await manager.apply(changed, options: options(dryRun: true))
        #expect(dryRun.entries.last?.action == .configured)
        #expect(try await api.get(path)["data"]?["password"] == Self.base64("old"))

        let applied = try await manager.apply(changed, options: options())
        #expect(applied.entries.last?.action == .configured)
        let live = try await api.get(path)
        #expect(live["data"]?["password"] == Self.base64("new"))
        #expect(live["stringData"] == nil)

        counter.reset()
        let again = try await manager.apply(changed, options: options())
        #expect(again.entries.allSatisfy { $0.action == .unchanged }, "\(again.entries)")
        let drift = try await manager.apply(changed, options: options(driftCheck: true))
        #expect(drift.entries.allSatisfy { $0.action == .unchanged }, "\(drift.entries)")
        #expect(counter.counts.writes == 0)
    }

    /// A Secret an earlier Wherry applied as `stringData` (so it owns only `stringData` fields, which the server
    /// never stores) is taken over when its value changes in Git, without a conflict.
    public func stringDataOfAnEarlierApplyIsTakenOver() async throws {
        _ = try await manager.apply([namespaceObject], options: options())
        let path = "/api/v1/namespaces/\(namespace)/secrets/creds"
        var earlier = secret("creds", password: "old").body
        earlier["metadata"]?["namespace"] = .string(namespace)
        _ = try await api.apply(path, object: .object(earlier), options: ApplyOptions(fieldManager: "wherry"))
        let owned = OwnedFields.fieldSet(of: try await api.get(path), manager: "wherry")
        #expect(owned?["f:stringData"] != nil)

        let changes = try await manager.apply([secret("creds", password: "new")], options: options())
        #expect(changes.entries.map(\.action) == [.configured])
        let live = try await api.get(path)
        #expect(live["data"]?["password"] == Self.base64("new"))
        #expect(OwnedFields.fieldSet(of: live, manager: "wherry")?["f:data"]?["f:password"] != nil)
        let again = try await manager.apply([secret("creds", password: "new")], options: options())
        #expect(again.entries.map(\.action) == [.unchanged])
    }

    /// Git changes the deprecated `serviceAccount` of a pod template: the server would ignore it (it keeps
    /// `serviceAccountName` from the first write), so Wherry sends it as `serviceAccountName`.
    public func changedDeprecatedServiceAccountIsApplied() async throws {
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/web"
        _ = try await manager.apply([namespaceObject, deployment(serviceAccount: "a")], options: options())
        let changed = [namespaceObject, deployment(serviceAccount: "b")]
        #expect(try await manager.diff(changed, options: options()).last?.action == .configured)
        let applied = try await manager.apply(changed, options: options())
        #expect(applied.entries.last?.action == .configured)
        let spec = try await api.get(path)["spec"]?["template"]?["spec"]
        #expect(spec?["serviceAccountName"] == "b")
        #expect(spec?["serviceAccount"] == "b")
        let again = try await manager.apply(changed, options: options())
        #expect(again.entries.allSatisfy { $0.action == .unchanged }, "\(again.entries)")
    }

    /// A key added by hand to a Service's selector (an atomic map: the editor takes the whole map) is drift: a drift
    /// check finds it without being fooled by the live map still holding Git's keys, and puts the selector back.
    public func handEditedSelectorIsDrift() async throws {
        let path = "/api/v1/namespaces/\(namespace)/services/web"
        _ = try await manager.apply([namespaceObject, service], options: options())
        let edit: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": .string(namespace)],
            "spec": ["selector": ["app": "web", "extra": "by-hand"]],
        ]
        _ = try await api.apply(path, object: edit, options: ApplyOptions(fieldManager: "kubectl-edit", force: true))
        #expect(try await api.get(path)["spec"]?["selector"]?["extra"] == "by-hand")

        let changes = try await manager.apply([namespaceObject, service], options: options(driftCheck: true))
        #expect(changes.entries.first { $0.ref.kind == "Service" }?.action == .configured, "\(changes.entries)")
        #expect(try await api.get(path)["spec"]?["selector"] == ["app": "web"])
    }

    /// An ignored field (`/spec/replicas`) is created with Git's value but never owned by Wherry afterwards: a later
    /// apply without it leaves the value (3, or what an autoscaler set), where server-side apply would otherwise
    /// remove it (replicas back to 1).
    public func ignoredFieldIsNeverOwned() async throws {
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/web"
        let ignoring = options(ignoring: ["/spec/replicas"])
        let created = try await manager.apply(
            [namespaceObject, deployment(serviceAccount: "default", replicas: 3)], options: ignoring)
        #expect(created.entries.map(\.action) == [.created, .created])
        var live = try await api.get(path)
        #expect(live["spec"]?["replicas"] == 3)
        #expect(OwnedFields.fieldSet(of: live, manager: "wherry")?["f:spec"]?["f:replicas"] == nil)
        #expect(OwnedFields.fieldSet(of: live, manager: "wherry-handover")?["f:spec"]?["f:replicas"] != nil)

        let relabelled = [namespaceObject, deployment(serviceAccount: "default", replicas: 3, tier: "front")]
        let changed = try await manager.apply(relabelled, options: ignoring)
        #expect(changed.entries.last?.action == .configured)
        live = try await api.get(path)
        #expect(live["metadata"]?["labels"]?["tier"] == "front")
        #expect(live["spec"]?["replicas"] == 3)

        let scaled: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web", "namespace": .string(namespace)], "spec": ["replicas": 5],
        ]
        _ = try await api.apply(path, object: scaled, options: ApplyOptions(fieldManager: "autoscaler", force: true))
        counter.reset()
        let again = try await manager.apply(relabelled, options: ignoring)
        #expect(again.entries.allSatisfy { $0.action == .unchanged }, "\(again.entries)")
        #expect(counter.counts.writes == 0)
        #expect(try await api.get(path)["spec"]?["replicas"] == 5)
    }

    /// A field Wherry owned before it was ignored is handed over before Wherry stops applying it, so it keeps its
    /// value.
    public func fieldOwnedBeforeItWasIgnoredKeepsItsValue() async throws {
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/web"
        _ = try await manager.apply(
            [namespaceObject, deployment(serviceAccount: "default", replicas: 3)], options: options())
        #expect(OwnedFields.fieldSet(of: try await api.get(path), manager: "wherry")?["f:spec"]?["f:replicas"] != nil)
        let changes = try await manager.apply(
            [namespaceObject, deployment(serviceAccount: "default", replicas: 3, tier: "front")],
            options: options(ignoring: ["/spec/replicas"]))
        #expect(changes.entries.last?.action == .configured)
        let live = try await api.get(path)
        #expect(live["spec"]?["replicas"] == 3)
        #expect(OwnedFields.fieldSet(of: live, manager: "wherry")?["f:spec"]?["f:replicas"] == nil)
    }

    /// Deleting a service's objects leaves an object of the same name that does not carry the service's labels.
    public func deleteLeavesWhatTheServiceDoesNotOwn() async throws {
        _ = try await manager.apply([namespaceObject, configMap("mine")], options: options())
        let foreignPath = "/api/v1/namespaces/\(namespace)/configmaps/foreign"
        let foreign: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "foreign", "namespace": .string(namespace)],
            "data": ["k": "v"],
        ]
        _ = try await api.apply(foreignPath, object: foreign, options: ApplyOptions(fieldManager: "someone"))
        let placed = [configMap("mine"), configMap("foreign")].map { object -> KubeObject in
            var copy = object
            copy.namespace = namespace
            return copy
        }
        let changes = try await manager.delete(placed, service: "scenario", options: DeleteOptions())
        let actions = Dictionary(uniqueKeysWithValues: changes.entries.map { ($0.ref.name, $0.action) })
        #expect(actions == ["mine": .deleted, "foreign": .kept])
        #expect(try await api.get(foreignPath)["data"]?["k"] == "v")
        await #expect(throws: KubeAPIError.self) {
            try await api.get("/api/v1/namespaces/\(namespace)/configmaps/mine")
        }
    }
}
