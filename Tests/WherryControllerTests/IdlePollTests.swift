import Foundation
import Testing
import WherryController
import WherryTesting

/// What a running controller costs the cluster while its branches do not move.
@Suite("Idle polls")
struct IdlePollTests {
    @Test("polls of an unchanged commit cost no API request once the services are applied and nothing is orphaned")
    func unchangedPollsAreFree() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            defer { remote.remove() }
            try await remote.commit([
                "a/cm.yaml": TestReconciler.configMap("a", "1"),
                "b/cm.yaml": TestReconciler.configMap("b", "1"),
            ])
            let text = """
                github_configs:
                  r: {url: \(remote.fileURL)}
                services:
                  - {name: a, github: r, k8s_yaml_dir: a}
                  - {name: b, github: r, k8s_yaml_dir: b}
                poll_interval: 1
                """
            try await TestReconciler.withLoop(server, config: text) { _, store in
                #expect(
                    try await TestReconciler.eventually {
                        let a = try await store.status(of: "a")?.lastResult
                        let b = try await store.status(of: "b")?.lastResult
                        return a == .succeeded && b == .succeeded
                    })
                // Let the start's own reads (orphans, suspensions) finish, then watch three polls.
                try await Task.sleep(for: .seconds(2))
                server.resetRequests()
                try await Task.sleep(for: .seconds(3.5))
                let requests = server.requests.map { "\($0.method) \($0.path)" }
                #expect(requests.isEmpty, "idle polls made requests: \(requests)")
            }
        }
    }
}
