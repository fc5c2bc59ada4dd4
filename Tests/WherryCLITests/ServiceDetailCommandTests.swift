import Foundation
import Testing
import WherryModel
import WherryTesting

/// `wherry status SERVICE`, `tree`, `history` and `events` against a real `wherry run` (on 127.0.0.1, with
/// FakeAPIServer as the cluster).
@Suite("wherry status SERVICE, tree, history, events")
struct ServiceDetailCommandTests {
    static let shop = [
        "shop/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        "shop/cm.yaml":
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  a: \"1\"\n",
        "shop/svc.yaml":
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports:\n"
            + "  - port: 80\n",
        // Two broken files: the error has a line for each.
        "broken/a.yaml": "apiVersion: v1\nmetadata:\n  name: a\n",
        "broken/b.yaml": "apiVersion: v1\nmetadata:\n  name: b\n",
    ]

    /// Runs `body` with a controller serving `shop` (applied, drift checked every second) and `broken` (failing).
    func withController(_ body: @Sendable (FakeAPIServer, RunningWherry) async throws -> Void) async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "detail")
            defer { remote.remove(); work.remove() }
            try await remote.commit(Self.shop)
            let config = try work.write(
                "gitops-config.yaml",
                "github_configs:\n  r: {url: \(remote.fileURL)}\npoll_interval: 1\nservices:\n"
                    + "  - {name: shop, github: r, k8s_yaml_dir: shop, drift_interval: 1}\n"
                    + "  - {name: broken, github: r, k8s_yaml_dir: broken, namespace: default}\n")
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            let wherry = try await RunningWherry.start(
                [
                    "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0",
                ],
                work: work, name: "detail")
            defer { wherry.kill() }
            // Until both services were attempted.
            var attempted = 0
            for _ in 0..<200 where attempted < 2 {
                try await Task.sleep(for: .milliseconds(100))
                let status = try await CLI.run(["status", "--server", "127.0.0.1:\(wherry.port)", "-o", "json"])
                let services = (try? JSONValue.parse(status.stdout))?["services"]?.arrayValue ?? []
                attempted = services.compactMap { $0["last_result"]?.stringValue }.count
            }
            try #require(attempted == 2, "\(wherry.stderr)")
            try await body(server, wherry)
        }
    }

    @Test("status exits 1 while a service fails; status SERVICE shows every line of its error, and json parses")
    func statusDetail() async throws {
        try await withController { _, wherry in
            let server = "127.0.0.1:\(wherry.port)"
            let table = try await CLI.run(["status", "--server", server])
            #expect(table.exitCode == 1, "\(table.all)")
            #expect(table.stdout.contains("APPLIED") && table.stdout.contains("CHECKED"), "\(table.all)")
            #expect(table.stdout.contains("(+"), "the table says the error has more lines: \(table.all)")

            let broken = try await CLI.run(["status", "broken", "--server", server])
            #expect(broken.exitCode == 1, "\(broken.all)")
            #expect(broken.stdout.contains("a.yaml") && broken.stdout.contains("b.yaml"), "\(broken.all)")
            #expect(broken.stdout.contains("State:        failed"), "\(broken.all)")

            // Drift-checked every second: between two checks, not in the middle of one.
            var shop = try await CLI.run(["status", "shop", "--server", server, "--output", "json"])
            for _ in 0..<50 where (try? JSONValue.parse(shop.stdout))?["service"]?["state"]?.stringValue != "succeeded"
            {
                try await Task.sleep(for: .milliseconds(100))
                shop = try await CLI.run(["status", "shop", "--server", server, "--output", "json"])
            }
            #expect(shop.exitCode == 0, "\(shop.all)")
            let document = try JSONValue.parse(shop.stdout)
            #expect(document["service"]?["state"]?.stringValue == "succeeded")
            #expect(document["service"]?["last_write_time"]?.stringValue != nil)
            #expect(document["resources"]?["objects"]?.arrayValue?.count == 3)
            #expect((document["history"]?.arrayValue?.count ?? 0) >= 1)

            let text = try await CLI.run(["status", "shop", "--server", server])
            #expect(text.exitCode == 0, "\(text.all)")
            #expect(text.stdout.contains("Objects (3"), "\(text.all)")
            #expect(text.stdout.contains("Service/shop/web"), "\(text.all)")

            let unknown = try await CLI.run(["status", "nope", "--server", server])
            #expect(unknown.exitCode == 1)
            #expect(unknown.stderr.contains("no service named 'nope'"), "\(unknown.all)")
        }
    }

    @Test("a drift check that wrote nothing moves CHECKED, not APPLIED; a correction is its own history line")
    func lastWriteAndDrift() async throws {
        try await withController { cluster, wherry in
            let server = "127.0.0.1:\(wherry.port)"
            func service() async throws -> JSONValue {
                let answer = try await CLI.run(["status", "shop", "--server", server, "-o", "json"])
                return try JSONValue.parse(answer.stdout)["service"] ?? .null
            }
            let first = try await service()
            let written = try #require(first["last_write_time"]?.stringValue)
            var checked = first["last_check_time"]?.stringValue
            for _ in 0..<60 where checked == first["last_check_time"]?.stringValue {
                try await Task.sleep(for: .milliseconds(250))
                checked = try await service()["last_check_time"]?.stringValue
            }
            #expect(checked != first["last_check_time"]?.stringValue, "drift checks ran")
            #expect(try await service()["last_write_time"]?.stringValue == written)

            #expect(cluster.remove(resource: "configmaps", namespace: "shop", name: "settings"))
            var history: [JSONValue] = []
            for _ in 0..<80 {
                let answer = try await CLI.run(["history", "shop", "--server", server, "-o", "json"])
                history = try JSONValue.parse(answer.stdout)["history"]?.arrayValue ?? []
                if history.contains(where: { !($0["drifted"]?.arrayValue ?? []).isEmpty }) { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            let correction = try #require(
                history.first { !($0["drifted"]?.arrayValue ?? []).isEmpty }, "\(history)")
            #expect(correction["count"] == .int(1))
            #expect(correction["drifted"] == ["ConfigMap/shop/settings"])
            let text = try await CLI.run(["history", "shop", "--server", server])
            #expect(text.stdout.contains("drift corrected: ConfigMap/shop/settings"), "\(text.all)")
            let limited = try await CLI.run(["history", "shop", "--server", server, "--limit", "1", "-o", "json"])
            #expect(try JSONValue.parse(limited.stdout)["history"]?.arrayValue?.count == 1)
        }
    }

    @Test("tree: the namespace over its objects, with live health; json objects and counts with every key")
    func tree() async throws {
        try await withController { cluster, wherry in
            let server = "127.0.0.1:\(wherry.port)"
            let text = try await CLI.run(["tree", "shop", "--server", server])
            #expect(text.exitCode == 0, "\(text.all)")
            #expect(text.stdout.contains("└── Namespace/shop  healthy"), "\(text.all)")
            #expect(text.stdout.contains("    ├── ConfigMap/settings  -"), "\(text.all)")
            #expect(text.stdout.contains("    └── Service/web  healthy"), "\(text.all)")

            _ = cluster.remove(resource: "services", namespace: "shop", name: "web")
            let json = try await CLI.run(["tree", "shop", "--server", server, "-o", "json"])
            let document = try JSONValue.parse(json.stdout)
            let objects = document["objects"]?.arrayValue ?? []
            #expect(objects.count == 3)
            for object in objects {
                #expect(object["kind"]?.stringValue != nil && object["name"]?.stringValue != nil)
                #expect(object["action"]?.stringValue != nil)
            }
            let counts = try #require(document["counts"]?.objectValue)
            #expect(counts.keys.sorted() == ["degraded", "healthy", "missing", "none", "progressing", "unknown"])
            // Put back by the next drift check at the latest; until then it may be missing.
            #expect(objects.contains { $0["name"] == "web" })

            let unknown = try await CLI.run(["tree", "nope", "--server", server])
            #expect(unknown.exitCode == 1)
        }
    }

    @Test("events: what the controller holds, filtered by service, as text and as json lines")
    func events() async throws {
        try await withController { _, wherry in
            let server = "127.0.0.1:\(wherry.port)"
            let text = try await CLI.run(["events", "--server", server, "--service", "broken"])
            #expect(text.exitCode == 0, "\(text.all)")
            #expect(text.stdout.contains("broken  reconcile_finished  failed"), "\(text.all)")
            #expect(!text.stdout.contains("  shop  "), "\(text.all)")
            let json = try await CLI.run(["events", "--server", server, "-o", "json"])
            let raw = json.stdout.split(separator: "\n")
            let lines = raw.compactMap { try? JSONValue.parse(String($0)) }
            #expect(!lines.isEmpty && lines.count == raw.count, "\(json.all)")
            #expect(lines.contains { $0["type"] == "reconcile_finished" && $0["service"] == "shop" })
            let none = try await CLI.run(["events", "--server", "127.0.0.1:1"])
            #expect(none.exitCode == 1)
        }
    }
}
