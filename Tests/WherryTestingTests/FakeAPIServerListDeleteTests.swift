import Foundation
import Testing
import WherryModel
import WherryTesting

/// Lists (selectors, pagination) and deletes (cascade, lingering, dry run) against ``FakeAPIServer``.
@Suite struct FakeAPIServerListDeleteTests {
    /// Two namespaces with labelled ConfigMaps: a/web (app=web, tier=front), a/db (app=db), b/web2 (app=web),
    /// b/cache (tier=back).
    private func seed(_ server: FakeAPIServer) async throws {
        try await Curl.makeNamespace(server, "a")
        try await Curl.makeNamespace(server, "b")
        let objects: [(String, String, JSONValue)] = [
            ("a", "web", ["app": "web", "tier": "front"]), ("a", "db", ["app": "db"]), ("b", "web2", ["app": "web"]),
            ("b", "cache", ["tier": "back"]),
        ]
        for (namespace, name, labels) in objects {
            let result = try await Curl.apply(
                server, "/api/v1/namespaces/\(namespace)/configmaps/\(name)",
                Curl.configMap(name, namespace: namespace, labels: labels))
            #expect(result.status == 201)
        }
    }

    private func names(_ server: FakeAPIServer, _ path: String, selector: String? = nil) async throws -> [String] {
        var url = server.baseURL + path
        if let selector {
            let encoded = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? selector
            url += "?labelSelector=" + encoded
        }
        let result = try await Curl.get(url)
        #expect(result.status == 200, "\(result.text)")
        return result.json["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
    }

    @Test func listsAcrossAndWithinNamespacesWithSelectors() async throws {
        try await FakeAPIServer.withServer { server in
            try await seed(server)
            let all = try await Curl.get(server.baseURL + "/api/v1/configmaps")
            #expect(all.json["kind"] == "ConfigMapList")
            #expect(all.json["apiVersion"] == "v1")
            #expect(all.json["metadata"]?["resourceVersion"]?.stringValue == server.resourceVersion)
            #expect(all.json["items"]?[0]?["kind"] == nil)
            #expect(try await names(server, "/api/v1/configmaps") == ["db", "web", "cache", "web2"])
            #expect(try await names(server, "/api/v1/namespaces/b/configmaps") == ["cache", "web2"])
            #expect(try await names(server, "/api/v1/namespaces/none/configmaps") == [])

            let cases: [(String, [String])] = [
                ("app=web", ["web", "web2"]), ("app==web", ["web", "web2"]), ("app!=web", ["db", "cache"]),
                ("tier", ["web", "cache"]), ("!tier", ["db", "web2"]), ("app in (web,db)", ["db", "web", "web2"]),
                ("app notin (web)", ["db", "cache"]), ("app=web,tier=front", ["web"]), ("app = web , !tier", ["web2"]),
            ]
            for (selector, expected) in cases {
                #expect(try await names(server, "/api/v1/configmaps", selector: selector) == expected, "\(selector)")
            }
            let bad = try await Curl.get(server.baseURL + "/api/v1/configmaps?labelSelector=app%20in%20web")
            #expect(bad.status == 400)
            #expect(bad.json["reason"] == "BadRequest")

            let byName = try await Curl.get(server.baseURL + "/api/v1/configmaps?fieldSelector=metadata.name%3Dweb2")
            #expect(byName.json["items"]?.arrayValue?.count == 1)

            let namespaces = try await names(server, "/api/v1/namespaces")
            #expect(namespaces == ["a", "b", "default", "kube-node-lease", "kube-public", "kube-system"])
        }
    }

    @Test func paginatesWithLimitAndContinue() async throws {
        try await FakeAPIServer.withServer { server in
            try await seed(server)
            var seen: [String] = []
            var token: String?
            var pages = 0
            repeat {
                var url = server.baseURL + "/api/v1/configmaps?limit=3"
                if let token { url += "&continue=" + token }
                let page = try await Curl.get(url)
                #expect(page.status == 200)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
                token = page.json["metadata"]?["continue"]?.stringValue
                if pages == 0 { #expect(page.json["metadata"]?["remainingItemCount"] == 1) }
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 2)
            #expect(seen == ["db", "web", "cache", "web2"])
            let bogus = try await Curl.get(server.baseURL + "/api/v1/configmaps?limit=1&continue=bm9wZQ")
            #expect(bogus.status == 400)
        }
    }

    @Test func deleteAnswersStatusAndNamespaceDeletionCascades() async throws {
        try await FakeAPIServer.withServer { server in
            try await seed(server)
            let url = server.baseURL + "/api/v1/namespaces/a/configmaps/db"
            let dryRun = try await Curl.send("DELETE", url + "?dryRun=All")
            #expect(dryRun.status == 200)
            #expect(server.object(resource: "configmaps", namespace: "a", name: "db") != nil)

            let deleted = try await Curl.send(
                "DELETE", url, body: #"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}"#,
                contentType: "application/json")
            #expect(deleted.status == 200)
            #expect(deleted.json["kind"] == "Status")
            #expect(deleted.json["status"] == "Success")
            #expect(deleted.json["details"]?["name"] == "db")
            #expect(try await Curl.get(url).status == 404)
            let again = try await Curl.send("DELETE", url)
            #expect(again.status == 404)
            #expect(again.json["message"] == "configmaps \"db\" not found")

            let badPolicy = try await Curl.send(
                "DELETE", server.baseURL + "/api/v1/namespaces/b/configmaps/cache?propagationPolicy=Sometimes")
            #expect(badPolicy.status == 422)

            #expect(try await Curl.send("DELETE", server.baseURL + "/api/v1/namespaces/a").status == 200)
            #expect(try await Curl.get(server.baseURL + "/api/v1/namespaces/a").status == 404)
            #expect(server.objects(resource: "configmaps", namespace: "a").isEmpty)
            #expect(server.objects(resource: "configmaps", namespace: "b").count == 2)
        }
    }

    @Test func deletionDelayKeepsObjectsWithDeletionTimestamp() async throws {
        try await FakeAPIServer.withServer { server in
            try await seed(server)
            // Long enough that the checks below run while the namespace is still terminating, even on a busy
            // machine where each curl takes a while to start.
            server.deletionDelay = .seconds(8)
            let namespace = try await Curl.send("DELETE", server.baseURL + "/api/v1/namespaces/b")
            let refused = try await Curl.apply(
                server, "/api/v1/namespaces/b/configmaps/new", Curl.configMap("new", namespace: "b"))
            let lingering = try await Curl.get(server.baseURL + "/api/v1/namespaces/b/configmaps/web2")
            #expect(namespace.status == 200)
            #expect(namespace.json["kind"] == "Namespace")
            #expect(namespace.json["status"]?["phase"] == "Terminating")
            #expect(namespace.json["metadata"]?["deletionTimestamp"] != nil)
            #expect(refused.status == 403)
            #expect(lingering.status == 200)
            #expect(lingering.json["metadata"]?["deletionTimestamp"] != nil)
            let gone = try await eventually(within: .seconds(30)) {
                try await Curl.get(server.baseURL + "/api/v1/namespaces/b/configmaps/web2").status == 404
            }
            #expect(gone)
            #expect(try await Curl.get(server.baseURL + "/api/v1/namespaces/b").status == 404)
        }
    }

    @Test func systemNamespacesExistAndTheMainOnesCannotBeDeleted() async throws {
        try await FakeAPIServer.withServer { server in
            let namespace = try await Curl.get(server.baseURL + "/api/v1/namespaces/default")
            #expect(namespace.status == 200)
            #expect(namespace.json["metadata"]?["labels"] == ["kubernetes.io/metadata.name": "default"])
            let refused = try await Curl.send("DELETE", server.baseURL + "/api/v1/namespaces/kube-system")
            #expect(refused.status == 403)
            #expect(refused.json["reason"] == "Forbidden")
        }
    }
}

/// Polls `condition` every 50 ms for up to 10 seconds; whether it became true.
func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}
