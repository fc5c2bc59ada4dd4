import Testing
public import WherryKube
import WherryModel

/// The shared health observer, the same on FakeAPIServer and on a real API server.
extension ApplyScenarios {
    /// Ten Deployments and a Service waited on at once: one list and one watch per collection, not one read per
    /// object; each Deployment is healthy once its controller observed it. A Deployment deleted while waited on is
    /// reported as not found when the wait times out.
    public func healthObserverSharesOneWatch() async throws {
        let names = (1...10).map { "app-\($0)" }
        let deployments = names.map { name in
            parse(
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\#(name)"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"\#(name)"}},"template":{"metadata":{"labels":{"app":"\#(name)"}},"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9"}]}}}}"#
            )
        }
        let changes = try await manager.apply([namespaceObject, service] + deployments, options: options())
        let observer = HealthObserver(api: api, mapper: RESTMapper(api: api), linger: .milliseconds(100))
        defer { observer.stop() }
        let entries = (deployments + [service]).map { object in
            var object = object
            object.namespace = namespace
            return InventoryEntry(object)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for entry in entries {
                group.addTask {
                    try await observer.waitUntilHealthy(
                        [entry], generations: changes.generations, timeout: .seconds(60))
                }
            }
            try await group.waitForAll()
        }
        // One list per collection; at most one watch each (a watch may still be starting when the waits end).
        #expect(observer.requests.lists == 2)
        #expect(observer.requests.watches <= 2)
        for name in names {
            let live = try await api.get("/apis/apps/v1/namespaces/\(namespace)/deployments/\(name)")
            #expect(Health.of(live) == .healthy)
        }

        let gone = entries[0]
        try await api.delete(
            "/apis/apps/v1/namespaces/\(namespace)/deployments/\(gone.ref.name)", options: DeleteOptions())
        // The deletion reaches the observer through its watch moments later; until then the object is healthy.
        var failure: ApplyError?
        for _ in 0..<20 where failure == nil {
            do {
                try await observer.waitUntilHealthy([gone], timeout: .milliseconds(500))
                try await Task.sleep(for: .milliseconds(100))
            } catch let error as ApplyError {
                failure = error
            }
        }
        #expect(failure?.description.contains("not found") == true)
    }
}
