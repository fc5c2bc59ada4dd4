import Foundation
import Logging
import Testing
public import WherryKube
public import WherryModel

/// Apply scenarios that run unchanged against `FakeAPIServer` and against a real cluster (E2E).
///
/// Each scenario works in its own namespace and custom-resource group, so scenarios can run in parallel.
public struct ApplyScenarios: Sendable {
    public let api: any KubeAPI
    public let namespace: String
    /// Counts the calls ``manager`` makes.
    public let counter: CountingKubeAPI
    public let manager: ResourceManager

    public init(api: any KubeAPI, namespace: String) {
        self.api = api
        self.namespace = namespace
        var logger = Logger(label: "wherry.test")
        logger.logLevel = .critical
        counter = CountingKubeAPI(api)
        manager = ResourceManager(api: counter, logger: logger)
    }

    /// A unique lower-case suffix for names.
    public static func uniqueSuffix() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8))
    }

    public func options(concurrency: Int = 8) -> ApplySetOptions {
        ApplySetOptions(
            defaultNamespace: namespace, liveSelector: "\(WherryLabels.service)=scenario", concurrency: concurrency)
    }

    public func parse(_ json: String) -> KubeObject {
        var object = KubeObject(body: (try! JSONValue.parse(json)).objectValue!)
        object.setLabels(WherryLabels.ownership(service: "scenario"))
        return object
    }

    public var namespaceObject: KubeObject {
        parse(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(namespace)"}}"#)
    }

    public func configMap(_ name: String, data: String = "v1") -> KubeObject {
        parse(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)"},"data":{"key":"\#(data)"}}"#)
    }

    public var service: KubeObject {
        parse(
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}"#
        )
    }

    public func deployment(replicas: Int = 1) -> KubeObject {
        parse(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"registry.k8s.io/pause:3.9"}]}}}}"#
        )
    }

    func resourceVersion(_ path: String) async throws -> String? {
        try await api.get(path)["metadata"]?["resourceVersion"]?.stringValue
    }

    /// Creates a namespace and three objects in it; a second apply changes nothing and keeps resourceVersions.
    public func createsThenLeavesUnchanged() async throws {
        let objects = [namespaceObject, configMap("settings"), service, deployment()]
        let first = try await manager.apply(objects, options: options())
        #expect(first.entries.map(\.action) == [.created, .created, .created, .created])
        #expect(
            first.entries.map(\.ref.description) == [
                "Namespace/\(namespace)", "ConfigMap/\(namespace)/settings", "Service/\(namespace)/web",
                "Deployment/\(namespace)/web",
            ])
        let path = "/api/v1/namespaces/\(namespace)/configmaps/settings"
        let before = try await resourceVersion(path)
        counter.reset()
        let second = try await manager.apply(objects, options: options())
        #expect(second.entries.allSatisfy { $0.action == .unchanged }, "\(second.entries)")
        #expect(try await resourceVersion(path) == before)
        #expect(counter.counts.writes == 0)
    }

    /// Another field manager changes a field; the next apply takes it back.
    public func correctsDrift() async throws {
        _ = try await manager.apply([namespaceObject, configMap("drift")], options: options())
        let path = "/api/v1/namespaces/\(namespace)/configmaps/drift"
        var edited = configMap("drift", data: "edited-by-hand").body
        edited["metadata"]?["namespace"] = .string(namespace)
        _ = try await api.apply(
            path, object: .object(edited), options: ApplyOptions(fieldManager: "kubectl-edit", force: true))
        #expect(try await api.get(path)["data"]?["key"] == "edited-by-hand")
        let changes = try await manager.apply([namespaceObject, configMap("drift")], options: options())
        #expect(changes.entries.last?.action == .configured)
        #expect(try await api.get(path)["data"]?["key"] == "v1")
    }

    /// One invalid object stops the whole set before anything is written, and its error is reported.
    public func invalidObjectBlocksTheSet() async throws {
        _ = try await manager.apply([namespaceObject], options: options())
        let error = try await #require(throws: ApplyError.self) {
            try await manager.apply([configMap("never"), deployment(replicas: -1)], options: options())
        }
        #expect(error.step == .validation)
        #expect(error.failures.map(\.ref.description) == ["Deployment/\(namespace)/web"])
        #expect(error.failures.first?.message.contains("replicas") == true)
        #expect(error.applied.entries.isEmpty)
        await #expect(throws: KubeAPIError.self) {
            try await api.get("/api/v1/namespaces/\(namespace)/configmaps/never")
        }
    }

    /// A CustomResourceDefinition and a custom resource of it in one set: the CRD goes first and is waited for.
    public func appliesCRDAndCustomResourceTogether() async throws {
        let group = "s\(Self.uniqueSuffix()).wherry.dev"
        let crd = parse(
            #"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.\#(group)"},"spec":{"group":"\#(group)","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}"#
        )
        let widget = parse(#"{"apiVersion":"\#(group)/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}}"#)
        let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.\(group)"
        do {
            let changes = try await manager.apply([widget, namespaceObject, crd], options: options())
            #expect(changes.entries.map(\.ref.kind) == ["CustomResourceDefinition", "Namespace", "Widget"])
            #expect(changes.entries.allSatisfy { $0.action == .created })
            let live = try await api.get("/apis/\(group)/v1/namespaces/\(namespace)/widgets/w1")
            #expect(live["spec"]?["size"] == 3)
        } catch {
            try? await api.delete(crdPath, options: DeleteOptions())
            throw error
        }
        try await api.delete(crdPath, options: DeleteOptions())
    }

    /// Deleting goes in reverse order and treats objects already gone as deleted.
    public func deletesEverything() async throws {
        let objects = [configMap("a"), configMap("b"), service]
        _ = try await manager.apply([namespaceObject] + objects, options: options())
        let placed = objects.map { object -> KubeObject in
            var copy = object
            copy.namespace = namespace
            return copy
        }
        let changes = try await manager.delete(
            placed + [configMap("never-existed")], service: "scenario", options: DeleteOptions())
        #expect(changes.entries.first?.ref.kind == "Service")
        #expect(changes.entries.allSatisfy { $0.action == .deleted })
        await #expect(throws: KubeAPIError.self) { try await api.get("/api/v1/namespaces/\(namespace)/configmaps/a") }
    }

    /// A diff names changed fields and leaves unchanged objects out.
    public func diffShowsChanges() async throws {
        _ = try await manager.apply([namespaceObject, configMap("same"), configMap("changes")], options: options())
        let diffs = try await manager.diff(
            [namespaceObject, configMap("same"), configMap("changes", data: "v2"), configMap("new")], options: options()
        )
        let actions = Dictionary(uniqueKeysWithValues: diffs.map { ($0.ref.name, $0.action) })
        #expect(actions == [namespace: .unchanged, "same": .unchanged, "changes": .configured, "new": .created])
        let changed = try #require(diffs.first { $0.ref.name == "changes" })
        #expect(changed.live?["data"]?["key"] == "v1")
        #expect(changed.desired["data"]?["key"] == "v2")
        #expect(changed.desired["metadata"]?["resourceVersion"] == nil)
    }
}
