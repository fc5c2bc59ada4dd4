import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WherryController
import WherryHTTP
import WherryModel

@Suite("The dashboard's pages: escaping, empty states, many services, headers")
struct DashboardTests {
    static let config = """
        github_configs:
          shop: {url: "https://bot:ghp_hidden@github.com/acme/shop.git"}
          local: {url: "file:///srv/git/local"}
        services:
          - {name: db, github: shop, k8s_yaml_dir: db}
          - {name: api, github: shop, k8s_yaml_dir: api, depends_on: [db], wait: true}
          - {name: web, github: local, k8s_yaml_dir: web, depends_on: [api]}
        """

    static let hostile = "<script>alert(1)</script>"

    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_756_727_000 + seconds) }

    @Test("a service name, an error and an object name holding <script> show as text, on both pages")
    func escaping() async throws {
        let store = InMemoryStatusStore()
        let name = Self.hostile
        try await store.record(
            ReconcileAttempt(
                service: name, revision: "0123456789abcdef0123456789abcdef01234567", result: .failed,
                error: "Deployment/a/b: \(Self.hostile) \"quoted\" & 'single'", startedAt: Self.at(0),
                durationSeconds: 1, drifted: ["ConfigMap/a/<b>bold</b>"]))
        try await store.saveInventory(
            Inventory([
                InventoryEntry(
                    ref: ObjectRef(group: "", kind: "ConfigMap", namespace: "a", name: "x<i>y"), apiVersion: "v1")
            ]),
            of: name)
        try await DashboardHarness.with(configText: Self.config, store: store, adjust: { $0.services[0].name = name }) {
            harness in
            let overview = try await harness.dashboard.overview()
            let page = try #require(try await harness.dashboard.servicePage(name))
            for html in [overview, page] {
                #expect(!html.contains(Self.hostile))
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                // The only script is the dashboard's own file.
                #expect(html.components(separatedBy: "<script").count == 2)
                #expect(html.contains("<script src=\"/assets/dashboard.js\" defer></script>"))
                #expect(!html.contains(" style="))
            }
            #expect(page.contains("&quot;quoted&quot; &amp; &#39;single&#39;"))
            #expect(page.contains("x&lt;i&gt;y") && !page.contains("x<i>y"))
            #expect(page.contains("&lt;b&gt;bold&lt;/b&gt;"))
            // The link to the service page is percent-encoded; the URL's credentials never show.
            #expect(overview.contains("href=\"/services/%3Cscript%3Ealert(1)%3C%2Fscript%3E\""))
            #expect(!overview.contains("ghp_hidden") && !page.contains("ghp_hidden"))
            #expect(page.contains("https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567"))
        }
    }

    @Test("empty states: no attempts, no objects, no drift, no services, no dependencies")
    func emptyStates() async throws {
        try await DashboardHarness.with(configText: Self.config, token: nil) { harness in
            let overview = try await harness.dashboard.overview()
            #expect(overview.contains("<tr data-service=\"db\" data-state=\"pending\""))
            #expect(overview.contains(">never</time>"))
            let page = try #require(try await harness.dashboard.servicePage("db"))
            #expect(page.contains("No attempts yet."))
            #expect(page.contains("No objects recorded yet"))
            #expect(page.contains("No drift corrected."))
            #expect(page.contains("nothing yet"))
            // Without a token the button says how to enable it.
            #expect(page.contains("<button type=\"button\" id=\"sync-now\" disabled"))
            #expect(page.contains("Manual sync is off. To enable it, set <code>api_token_env</code>"))
            #expect(try await harness.dashboard.servicePage("nope") == nil)
        }
        try await DashboardHarness.with(configText: "github_configs:\n  r: {url: \"file:///x\"}\nservices: []\n") {
            harness in
            let overview = try await harness.dashboard.overview()
            #expect(overview.contains("No services are configured."))
            #expect(overview.contains("No repository has a service yet."))
        }
    }

    @Test("the service page draws its dependencies and dependents, shows its config and history")
    func servicePage() async throws {
        let store = InMemoryStatusStore()
        for (index, result) in [ReconcileResult.succeeded, .failed, .failed].enumerated() {
            try await store.record(
                ReconcileAttempt(
                    service: "api", revision: index == 0 ? "aaaaaaa1" : "bbbbbbb2", result: result,
                    error: result == .failed ? "ConfigMap/api/x: is invalid\nsecond line" : nil,
                    counts: [.created: 2], startedAt: Self.at(Double(index)), durationSeconds: 0.5))
        }
        try await DashboardHarness.with(configText: Self.config, store: store) { harness in
            let page = try #require(try await harness.dashboard.servicePage("api"))
            #expect(
                page.contains("<svg class=\"graph\" role=\"img\" aria-label=\"api depends on db; depended on by web\""))
            #expect(page.contains("<a href=\"/services/db\"><title>db</title>"))
            #expect(page.contains("<a href=\"/services/web\"><title>web</title>"))
            // The last error in full, its second line too; the history counts the repeat.
            #expect(
                page.contains(
                    "<pre class=\"error\" data-role=\"last-error\">ConfigMap/api/x: is invalid\nsecond line</pre>"))
            #expect(page.contains("<td>2 (repeated)</td>"))
            #expect(page.contains("<dt>wait for health</dt><dd>yes</dd>"))
            #expect(page.contains("<dt>repository</dt><dd>https://github.com/acme/shop.git</dd>"))
            #expect(page.contains("data-sync=\"/v1/gitops/services/api/sync\""))
        }
    }

    @Test("1000 services render, failures first, each with its row")
    func thousandServices() async throws {
        let store = InMemoryStatusStore()
        let names = (0..<1000).map { String(format: "svc-%04d", $0) }
        for (index, name) in names.enumerated() where index % 100 == 7 {
            try await store.record(
                ReconcileAttempt(
                    service: name, revision: "c0ffee1", result: .failed, error: "boom", startedAt: Self.at(0),
                    durationSeconds: 1))
        }
        let services = names.map { "  - {name: \($0), github: shop, k8s_yaml_dir: \($0)}" }.joined(separator: "\n")
        let text = "github_configs:\n  shop: {url: \"https://github.com/acme/shop\"}\nservices:\n\(services)\n"
        try await DashboardHarness.with(configText: text, store: store) { harness in
            let overview = try await harness.dashboard.overview()
            let rows = overview.components(separatedBy: "<tr data-service=\"").dropFirst()
            #expect(rows.count == 1000)
            // The ten failures come first, in name order.
            #expect(rows.prefix(10).allSatisfy { $0.contains("data-state=\"failed\"") })
            #expect(rows.first?.hasPrefix("svc-0007\"") == true)
            #expect(overview.contains("10 failing"))
        }
    }

    @Test("pages and assets carry a strict CSP, nosniff and no-referrer; unknown services are 404")
    func headers() async throws {
        try await DashboardHarness.with(configText: Self.config) { harness in
            try await harness.application().test(.router) { client in
                for uri in [
                    "/", "/services/api", "/assets/dashboard.js", "/assets/dashboard.css", "/v1/gitops/services",
                ] {
                    try await client.execute(uri: uri, method: .get) { response in
                        #expect(response.status == .ok, "\(uri)")
                        let policy = response.headers[.contentSecurityPolicy] ?? ""
                        #expect(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"))
                        #expect(!policy.contains("unsafe-inline"))
                        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                    }
                }
                try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                }
                try await client.execute(uri: "/assets/dashboard.js", method: .get) { response in
                    #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                    #expect(String(buffer: response.body).contains("new EventSource(\"/v1/gitops/events\" +"))
                }
                try await client.execute(uri: "/services/nope", method: .get) { response in
                    #expect(response.status == .notFound)
                }
                try await client.execute(uri: "/assets/../Package.swift", method: .get) { response in
                    #expect(response.status == .notFound)
                }
            }
        }
    }
}
