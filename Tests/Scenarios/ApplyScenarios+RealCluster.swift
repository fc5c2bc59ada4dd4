import Foundation
import Testing
public import WherryKube
import WherryModel

/// Scenarios written after Wherry first ran against a real API server: what the fake did not show then.
extension ApplyScenarios {
    /// 200 objects of four kinds in a Namespace the same set creates: the second apply right after the first
    /// reports every object unchanged and writes nothing, while the Deployment controller writes the Deployments.
    public func secondApplyOf200ObjectsWritesNothing() async throws {
        var objects = [namespaceObject]
        for index in 0..<50 {
            objects.append(configMap("cm-\(index)", data: "value-\(index)"))
            objects.append(
                parse(
                    #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"secret-\#(index)"},"stringData":{"token":"t-\#(index)"}}"#
                ))
            objects.append(
                parse(
                    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-\#(index)"},"spec":{"selector":{"app":"app-\#(index)"},"ports":[{"port":80,"targetPort":8080}]}}"#
                ))
            objects.append(
                parse(
                    #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app-\#(index)"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"app-\#(index)"}},"template":{"metadata":{"labels":{"app":"app-\#(index)"}},"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9","ports":[{"containerPort":8080}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}}}"#
                ))
        }
        let first = try await manager.apply(objects, options: options())
        #expect(first.entries.count == 201)
        #expect(first.entries.allSatisfy { $0.action == .created })
        let generation = try await api.get("/apis/apps/v1/namespaces/\(namespace)/deployments/app-7")["metadata"]?[
            "generation"]
        counter.reset()
        let second = try await manager.apply(objects, options: options())
        let changed = second.entries.filter { $0.action != .unchanged }
        #expect(changed.isEmpty, "\(changed)")
        #expect(counter.counts.writes == 0)
        // One dry run per object, and a handful of LISTs (one per kind here).
        #expect(counter.counts.dryRunApplies == 201)
        #expect(counter.counts.lists <= 5)
        let after = try await api.get("/apis/apps/v1/namespaces/\(namespace)/deployments/app-7")
        #expect(after["metadata"]?["generation"] == generation)
    }

    /// A value of the wrong type is refused by a real server with HTTP 500: Wherry reports it as invalid at once,
    /// with the field, as a permanent failure, and writes nothing.
    public func typeErrorIsInvalidAndPermanent() async throws {
        _ = try await manager.apply([namespaceObject], options: options())
        var wrong = deployment().body
        wrong["spec"]?["replicas"] = "three"
        let object = parse(JSONValue.object(wrong).jsonString())
        counter.reset()
        let error = try await #require(throws: ApplyError.self) {
            try await manager.apply([configMap("kept-out"), object], options: options())
        }
        #expect(error.step == .validation)
        #expect(!error.isTransient)
        let failure = try #require(error.failures.first)
        #expect(error.failures.count == 1)
        #expect(failure.ref.description == "Deployment/\(namespace)/web")
        #expect(failure.code == 500)
        #expect(!failure.isTransient)
        #expect(failure.message.contains("spec.replicas: expected numeric"), "\(failure.message)")
        #expect(counter.counts.writes == 0)
    }

    /// With a CRD that exists, a dry-run sync checks custom resources against its schema: an invalid one fails.
    public func dryRunChecksCustomResourcesOfExistingCRDs() async throws {
        let group = "s\(Self.uniqueSuffix()).wherry.dev"
        let crd = parse(
            #"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"gadgets.\#(group)"},"spec":{"group":"\#(group)","scope":"Namespaced","names":{"plural":"gadgets","singular":"gadget","kind":"Gadget","listKind":"GadgetList"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}"#
        )
        let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.\(group)"
        let big = parse(
            #"{"apiVersion":"\#(group)/v1","kind":"Gadget","metadata":{"name":"g1"},"spec":{"size":"big"}}"#)
        do {
            _ = try await manager.apply([namespaceObject, crd], options: options())
            var dryRun = options()
            dryRun.dryRun = true
            let error = try await #require(throws: ApplyError.self) {
                try await manager.apply([namespaceObject, crd, big], options: dryRun)
            }
            #expect(error.step == .validation)
            #expect(error.failures.map(\.ref.description) == ["Gadget/\(namespace)/g1"])
            #expect(error.failures.first?.message.contains("spec.size") == true, "\(error)")
        } catch {
            try? await api.delete(crdPath, options: DeleteOptions())
            throw error
        }
        try await api.delete(crdPath, options: DeleteOptions())
    }

    /// An invalid object in a Namespace the same set creates is found after the Namespace is written; the error
    /// says the first stage was applied, not that nothing was.
    public func failureAfterFirstStageSaysWhatWasApplied() async throws {
        let error = try await #require(throws: ApplyError.self) {
            try await manager.apply([namespaceObject, configMap("fine"), deployment(replicas: -1)], options: options())
        }
        #expect(error.step == .validation)
        #expect(error.failures.map(\.ref.description) == ["Deployment/\(namespace)/web"])
        #expect(error.applied.entries.map(\.ref.description) == ["Namespace/\(namespace)"])
        #expect(error.description.contains("only the first stage was applied (Namespace/\(namespace))"))
        #expect(!error.description.contains("nothing was applied"))
        await #expect(throws: KubeAPIError.self) {
            try await api.get("/api/v1/namespaces/\(namespace)/configmaps/fine")
        }
    }

    /// Credentials the server rejects fail the whole apply once, naming the server, with no per-object noise.
    public func rejectedCredentialsAreOneClusterError(_ rejected: any KubeAPI) async throws {
        let manager = ResourceManager(api: rejected, logger: manager.logger)
        let objects = (0..<20).map { configMap("cm-\($0)") }
        let error = try await #require(throws: ApplyError.self) {
            try await manager.apply([namespaceObject] + objects, options: options())
        }
        #expect(error.step == .cluster)
        #expect(error.isClusterWide)
        #expect(error.isTransient)
        #expect(error.failures.isEmpty)
        #expect(error.description.contains(rejected.server))
        #expect(error.description.contains("HTTP 401"))
        #expect(!error.description.contains("\n"), "one sentence: \(error)")
    }
}

extension ApplyScenarios {
    /// RBAC that allows ConfigMaps but not Secrets: the Secret fails alone, naming the verb, resource and namespace
    /// refused, and nothing is called cluster-wide. (Server-side apply of a new object needs `create` as well as
    /// `patch`.) Needs a real server with RBAC and the token controller.
    public func forbiddenKindStaysWithItsObject(
        connect: @Sendable (String) throws -> any KubeAPI
    ) async throws {
        let account = parse(#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"limited"}}"#)
        let token = parse(
            #"{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token","metadata":{"name":"limited-token","annotations":{"kubernetes.io/service-account.name":"limited"}}}"#
        )
        let role = parse(
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"configmaps-only"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","create","patch"]}]}"#
        )
        let binding = parse(
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"limited"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"configmaps-only"},"subjects":[{"kind":"ServiceAccount","name":"limited","namespace":"\#(namespace)"}]}"#
        )
        _ = try await manager.apply([namespaceObject, account, role, binding], options: options())
        // The token controller fills the Secret in moments; it deletes one that names an account it has not seen
        // yet, so the Secret is applied again until it stays.
        var value: String?
        for _ in 0..<50 where value == nil {
            switch await readObject("/api/v1/namespaces/\(namespace)/secrets/limited-token") {
            case .success(let secret): value = secret["data"]?["token"]?.stringValue
            case .failure(let error) where error.isNotFound: _ = try await manager.apply([token], options: options())
            case .failure(let error): throw error
            }
            if value == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let encoded = try #require(value, "the token controller did not fill the service account token")
        let decoded = try #require(Data(base64Encoded: encoded).flatMap { String(data: $0, encoding: .utf8) })
        let limited = try connect(decoded)
        let limitedManager = ResourceManager(api: limited, logger: manager.logger)
        let secret = parse(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"refused"},"stringData":{"a":"b"}}"#)
        let error = try await #require(throws: ApplyError.self) {
            try await limitedManager.apply([configMap("allowed"), secret], options: options())
        }
        #expect(!error.isClusterWide)
        #expect(error.step == .validation)
        #expect(error.failures.map(\.ref.description) == ["Secret/\(namespace)/refused"], "\(error)")
        let message = try #require(error.failures.first?.message)
        #expect(message.contains(#"cannot patch resource "secrets""#), "\(message)")
        #expect(message.contains(#"in the namespace "\#(namespace)""#), "\(message)")
        #expect(error.failures.first?.code == 403)
    }

    /// One GET as a result (a typed-throw `catch` in the loop above crashes the compiler).
    private func readObject(_ path: String) async -> Result<JSONValue, KubeAPIError> {
        do {
            return .success(try await api.get(path))
        } catch {
            return .failure(error)
        }
    }
}

extension ApplyScenarios {
    /// Twenty Deployments waited on at once: the controller backlog is what the Deployment controller has not
    /// observed yet and drains as it works; a Deployment with a replica that never starts (no kubelet) is observed
    /// at once, so it is no backlog although it never becomes healthy.
    public func controllerBacklogDrains() async throws {
        let deployment = { (name: String, replicas: Int) in
            self.parse(
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\#(name)"},"spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"\#(name)"}},"template":{"metadata":{"labels":{"app":"\#(name)"}},"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9"}]}}}}"#
            )
        }
        let fast = (1...20).map { deployment("fast-\($0)", 0) }
        let stuck = deployment("stuck", 1)
        let changes = try await manager.apply([namespaceObject, stuck] + fast, options: options())
        let observer = HealthObserver(api: api, mapper: RESTMapper(api: api), linger: .milliseconds(100))
        defer { observer.stop() }
        let entries = ([stuck] + fast).map { object in
            var object = object
            object.namespace = namespace
            return InventoryEntry(object)
        }
        let generations = changes.generations
        let stuckEntry = entries[0]
        let stuckWait = Task {
            try await observer.waitUntilHealthy([stuckEntry], generations: generations, timeout: .seconds(60))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for entry in entries.dropFirst() {
                group.addTask {
                    try await observer.waitUntilHealthy([entry], generations: generations, timeout: .seconds(60))
                }
            }
            // Held until the controller has observed them all (the stuck one included).
            let (place, _) = await observer.waitForControllers(below: 2, interval: .milliseconds(50))
            place.release()
            try await group.waitForAll()
        }
        var backlog = observer.controllerBacklog
        for _ in 0..<100 where backlog != 0 {
            try await Task.sleep(for: .milliseconds(100))
            backlog = observer.controllerBacklog
        }
        #expect(backlog == 0, "the stuck Deployment still counts although its controller observed it")
        let live = try await api.get("/apis/apps/v1/namespaces/\(namespace)/deployments/stuck")
        #expect(!Health.of(live).isHealthy)
        #expect(!Health.awaitsController(live))
        stuckWait.cancel()
        _ = try? await stuckWait.value
    }
}
