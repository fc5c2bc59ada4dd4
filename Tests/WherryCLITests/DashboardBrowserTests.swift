import Foundation
import Testing
import WherryModel
import WherryTesting

/// The dashboard in a real browser: Debian's chromium, driven over WebDriver, against `wherry run` on
/// FakeAPIServer and a git fixture. Skipped only where chromium and chromedriver are not installed (`.ci/run`
/// installs them).
@Suite("The dashboard in chromium, over WebDriver")
struct DashboardBrowserTests {
    static let token = "browser-token-8f3a"
    static func configMap(_ name: String, _ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\ndata:\n  value: \"\(value)\"\n"
    }

    @Test(
        "overview, live badge on a push, a failing service's error, Sync now with and without the token, filter, no console errors, screenshots at 375 and 1440 px",
        .enabled(
            if: WebDriver.available,
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func dashboard() async throws {
        try await FakeAPIServer.withServer { server in
            let remote = try await GitRemoteFixture()
            let work = try TemporaryDirectory(prefix: "browser")
            defer { remote.remove() }
            try await remote.commit([
                "shop/cm.yaml": Self.configMap("shop", "1"),
                "cart/cm.yaml": Self.configMap("cart", "1"),
                // Not YAML: the render fails with the file and line.
                "broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n",
            ])
            let config = try work.write(
                "gitops-config.yaml",
                """
                github_configs:
                  r: {url: \(remote.fileURL)}
                poll_interval: 1
                api_token_env: WHERRY_BROWSER_TOKEN
                services:
                  - {name: shop, github: r, k8s_yaml_dir: shop, namespace: default}
                  - {name: cart, github: r, k8s_yaml_dir: cart, namespace: default, depends_on: [shop]}
                  - {name: broken, github: r, k8s_yaml_dir: broken, namespace: default}

                """)
            let kubeconfig = try CLI.writeKubeconfig(in: work, server: server.baseURL)
            setenv("WHERRY_BROWSER_TOKEN", Self.token, 1)
            let wherry = try await RunningWherry.start(
                [
                    "-c", config, "--kubeconfig", kubeconfig, "--state-dir", work.path + "/state", "--listen",
                    "127.0.0.1:0",
                ],
                work: work, name: "browser")
            unsetenv("WHERRY_BROWSER_TOKEN")
            defer { wherry.kill() }
            let browser = try await WebDriver.start(work: work)
            let site = "http://127.0.0.1:\(wherry.port)"
            do {
                try await Self.scenario(browser, site: site, remote: remote, work: work)
                await browser.quit()
            } catch {
                await browser.quit()
                Issue.record("wherry's stderr:\n\(wherry.stderr)")
                throw error
            }
            // Kept for looking at when the test fails; removed when it passes.
            work.remove()
        }
    }

    static func scenario(
        _ browser: WebDriver, site: String, remote: GitRemoteFixture, work: TemporaryDirectory
    ) async throws {
        // The overview lists the services; shop and cart succeed, broken fails (and sorts first).
        try await browser.open(site + "/")
        // The page was rendered while the first reconciles ran: it follows them from the event it was rendered at.
        #expect(
            try await browser.waitFor(
                """
                const state = (name) => document.querySelector(`tr[data-service="${name}"]`)?.dataset.state;
                return state("shop") === "succeeded" && state("cart") === "succeeded" && state("broken") === "failed";
                """))
        let order = try await browser.run(
            "return Array.from(document.querySelectorAll('#service-rows tr')).map(r => r.dataset.service);")
        #expect(order == ["broken", "cart", "shop"])
        #expect(try await browser.waitFor("return document.getElementById('live').textContent === 'live';"))

        // A push: shop's badge goes to reconciling and back to succeeded, without a reload.
        try await browser.run(
            """
            window.wherryMarker = "same page";
            window.seenStates = [];
            const badge = document.querySelector('tr[data-service="shop"] [data-role=state]');
            new MutationObserver(() => window.seenStates.push(badge.textContent))
                .observe(badge, {childList: true, characterData: true, subtree: true});
            """)
        let commit = try await remote.commit(["shop/cm.yaml": Self.configMap("shop", "2")], message: "shop 2")
        #expect(
            try await browser.waitFor(
                """
                const row = document.querySelector('tr[data-service="shop"]');
                return window.seenStates.includes("reconciling") && row.dataset.state === "succeeded"
                    && row.querySelector("[data-role=revision]").textContent === arguments[0];
                """, [.string(String(commit.prefix(12)))]))
        #expect(try await browser.run("return window.wherryMarker;") == "same page")

        // The filter box filters, by name and by state, without a reload.
        try await browser.type("#filter-name", "ca")
        #expect(try await Self.visibleRows(browser) == ["cart"])
        try await browser.run(
            "document.getElementById('filter-name').value = ''; document.getElementById('filter-name').dispatchEvent(new Event('input'));"
        )
        try await browser.run(
            "const s = document.getElementById('filter-state'); s.value = 'failed'; s.dispatchEvent(new Event('change'));"
        )
        #expect(try await Self.visibleRows(browser) == ["broken"])
        #expect(try await browser.run("return document.getElementById('filter-count').textContent;") == "1 shown")
        #expect(try await browser.run("return window.wherryMarker;") == "same page")

        try await Self.screenshots(browser, work: work, page: "overview")

        // The failing manifest's error, in full, on its page.
        try await browser.open(site + "/services/broken")
        let error = try await browser.run("return document.querySelector('[data-role=last-error]')?.textContent ?? '';")
        #expect(error.stringValue?.contains("broken/cm.yaml") == true, "\(error)")

        // Sync now with the token: typed once, kept in sessionStorage, sent as a bearer token.
        try await browser.open(site + "/services/shop")
        let before = try await browser.run(
            "return fetch('/v1/gitops/services/shop/history').then(r => r.json())"
                + ".then(j => j.history.reduce((sum, line) => sum + line.count, 0));")
        try await browser.click("#sync-now")
        #expect(try await browser.waitFor("return !document.getElementById('token-form').hidden;"))
        try await browser.type("#token", Self.token)
        try await browser.click("#token-form button[type=submit]")
        #expect(
            try await browser.waitFor("return document.getElementById('sync-result').textContent === 'Sync queued.';"))
        #expect(try await browser.run("return sessionStorage.getItem('wherry.apiToken');") == .string(Self.token))
        #expect(
            try await browser.run("return getComputedStyle(document.getElementById('token-form')).display;") == "none")
        // The manual sync runs: the page hears of it and its history counts one more attempt (on the newest line,
        // or on a line of its own after the first apply, which wrote and so is never counted on).
        #expect(
            try await browser.waitFor(
                "const cells = [...document.querySelectorAll('table.history tbody tr td:nth-child(5)')];"
                    + "return cells.reduce((sum, cell) => sum + parseInt(cell.textContent), 0) > arguments[0];",
                [before]))
        try await Self.screenshots(browser, work: work, page: "service")

        // Nothing so far wrote an error to the console (CSP violations, script errors, failed loads).
        let log = try await browser.consoleLog()
        #expect(log.filter { $0.0 == "SEVERE" }.isEmpty, "\(log)")

        // Without the right token the sync is refused, and the page says so.
        try await browser.run("sessionStorage.setItem('wherry.apiToken', 'wrong-token');")
        try await browser.click("#sync-now")
        #expect(
            try await browser.waitFor(
                "return document.getElementById('sync-result').textContent.startsWith('The token was refused');"))
        #expect(try await browser.run("return sessionStorage.getItem('wherry.apiToken');") == .null)
        let status = try await browser.run(
            """
            return fetch(arguments[0], {method: 'POST'}).then(r => r.status);
            """, [.string(site + "/v1/gitops/services/shop/sync")])
        #expect(status == 401)
        // The refusals are the only console errors: the browser logs a failed request as one.
        let refused = try await browser.consoleLog().filter { $0.0 == "SEVERE" }
        #expect(refused.allSatisfy { $0.1.contains("401") }, "\(refused)")
    }

    static func visibleRows(_ browser: WebDriver) async throws -> [String] {
        let rows = try await browser.run(
            "return Array.from(document.querySelectorAll('#service-rows tr')).filter(r => !r.hidden).map(r => r.dataset.service);"
        )
        return (rows.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Screenshots at a phone's width and a wide screen, written to the temp dir; their paths are printed.
    static func screenshots(_ browser: WebDriver, work: TemporaryDirectory, page: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wherry-dashboard-screenshots")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (width, height) in [(375, 812), (1440, 900)] {
            try await browser.resize(width: width, height: height)
            // Nothing is wider than the window at either width (the tables scroll inside their box).
            let overflow = try await browser.run(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth;")
            #expect(overflow == false, "\(page) at \(width) px is wider than the window")
            let file = directory.appendingPathComponent("\(page)-\(width).png")
            try await browser.screenshot().write(to: file)
            print("dashboard screenshot: \(file.path)")
        }
    }
}
