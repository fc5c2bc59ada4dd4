import Foundation
import Testing
import WherryModel
import WherryTesting

@Suite("wherry check against FakeAPIServer")
struct CheckCommandTests {
    private func setUp(
        _ server: FakeAPIServer
    ) async throws -> (GitRemoteFixture, TemporaryDirectory, [String]) {
        let remote = try await GitRemoteFixture()
        try await remote.commit([
            "k8s/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
            "k8s/dep.yaml":
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
        ])
        let work = try TemporaryDirectory(prefix: "check")
        let config = try work.write(
            "gitops-config.yaml",
            "github_configs:\n  r: {url: \(remote.fileURL)}\nservices:\n  - {name: shop, github: r, k8s_yaml_dir: k8s}\n"
        )
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
        return (remote, work, ["-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state"])
    }

    @Test("every check passes: one ✓ line each, exit 0, and the token is never printed")
    func allPass() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            let out = try await CLI.run(["check"] + common)
            #expect(out.exitCode == 0, "\(out.all)")
            #expect(out.stdout.contains("✓ kubeconfig loads (context fake, server \(server.baseURL))"))
            #expect(out.stdout.contains("✓ API server \(server.baseURL) answers: Kubernetes v1.33.0-wherry-fake"))
            #expect(
                out.stdout.contains(
                    "✓ RBAC in namespace shop: allowed to get, list, create, patch, delete deployments.apps"))
            #expect(
                out.stdout.contains(
                    "✓ RBAC for cluster-scoped objects: allowed to get, list, create, patch, delete namespaces"))
            #expect(
                out.stdout.contains(
                    "✓ RBAC in namespace wherry-system: allowed to get, list, create, patch, delete configmaps"))
            #expect(out.stdout.contains("✓ remote r \(remote.fileURL) answers; branch main at "))
            #expect(out.stdout.contains("✓ state dir \(work.path)/state is writable"))
            #expect(!out.all.contains("kube-token-123456"))
            let reviews = server.requests.filter { $0.path.hasSuffix("/selfsubjectaccessreviews") }
            #expect(reviews.count == 15)
            #expect(server.requests.allSatisfy { $0.method == "GET" || $0.path.hasSuffix("/selfsubjectaccessreviews") })
        }
    }

    @Test("a denied verb, a missing branch and an unwritable state dir each fail with what to do; exit 1")
    func failures() async throws {
        try await FakeAPIServer.withServer { server in
            let (remote, work, common) = try await setUp(server)
            defer { remote.remove(); work.remove() }
            server.deny(DeniedAccess(verb: "patch", group: "apps", resource: "deployments", namespace: "shop"))
            server.deny(DeniedAccess(verb: "delete", group: "apps", resource: "deployments", namespace: "shop"))
            let config = common[1]
            let out = try await CLI.run(["check"] + common)
            #expect(out.exitCode == 1, "\(out.all)")
            #expect(
                out.stdout.contains(
                    "✗ RBAC in namespace shop: the user of context fake may not patch, delete deployments.apps"),
                "\(out.stdout)")
            #expect(out.stdout.contains("1 of 8 checks failed"), "\(out.stdout)")
            try "not a directory".write(toFile: work.path + "/file", atomically: true, encoding: .utf8)
            let state = try await CLI.run(
                ["check", "-c", config, "--kubeconfig", common[3], "--state-dir", work.path + "/file/state"])
            #expect(state.exitCode == 1)
            #expect(state.stdout.contains("✗ state dir \(work.path)/file/state is not writable"), "\(state.stdout)")
            try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(
                    of: "r: {url: \(remote.fileURL)}", with: "r: {url: \(remote.fileURL), branch: nope}"
                )
                .write(toFile: config, atomically: true, encoding: .utf8)
            let json = try await CLI.run(
                [
                    "check", "-c", config, "--kubeconfig", common[3], "--state-dir", work.path + "/state", "--output",
                    "json",
                ])
            #expect(json.exitCode == 1)
            let report = try JSONValue.parse(json.stdout)
            #expect(report["counts"]?["failed"] == .int(1), "\(json.stdout)")
            #expect(report["counts"]?["ok"] != nil)
            let errors = report["errors"]?.arrayValue ?? []
            let error = try #require(errors.first)
            #expect(error["check"] == "remote")
            #expect(error["message"]?.stringValue?.contains("has no branch nope") == true)
        }
    }

    @Test("an API server that is not there fails the server check and says RBAC was not checked")
    func unreachable() async throws {
        let work = try TemporaryDirectory(prefix: "check")
        defer { work.remove() }
        let config = try work.write("c.yaml", "services: []\n")
        let kubeconfig = try CLI.writeKubeconfig(in: work, server: "http://127.0.0.1:1")
        let out = try await CLI.run([
            "check", "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/s",
        ])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("✗ API server: cannot reach the API server at http://127.0.0.1:1"), "\(out.stdout)")
        #expect(out.stdout.contains("✗ RBAC not checked: the API server did not answer"))
    }
}
