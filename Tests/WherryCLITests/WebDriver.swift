import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel
import WherryTesting

/// A WebDriver client (the W3C protocol over HTTP) driving Debian's `chromium` headless through `chromedriver`,
/// for the dashboard's browser tests. Only what those tests use: navigate, run a script, click, type, resize,
/// screenshot, and read the browser's console log.
final class WebDriver: Sendable {
    let base: String
    let session: String
    private let driver: Process

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    /// Whether a browser and its driver are installed (`.ci/run` installs both).
    static var available: Bool { chromium != nil && chromedriver != nil }

    private init(base: String, session: String, driver: Process) {
        self.base = base
        self.session = session
        self.driver = driver
    }

    /// Starts chromedriver on a free loopback port and a headless chromium session with a profile in `work`.
    static func start(work: TemporaryDirectory) async throws -> WebDriver {
        guard let chromium, let chromedriver else { throw FixtureError("chromium or chromedriver is not installed") }
        let port = try LoopbackPort.free()
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1", "--verbose"]
        let log = try work.write("chromedriver.log", "")
        driver.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        driver.standardError = driver.standardOutput
        try driver.run()
        let base = "http://127.0.0.1:\(port)"
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await call("GET", base + "/status"))?["value"]?["ready"] == .bool(true)
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else {
            driver.terminate()
            throw FixtureError(
                "chromedriver did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let capabilities: JSONValue = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:loggingPrefs": ["browser": "ALL"],
                    "goog:chromeOptions": [
                        "binary": .string(chromium),
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1440,900", .string("--user-data-dir=\(work.path)/profile"),
                            "--no-first-run", "--no-default-browser-check",
                        ],
                    ],
                ]
            ]
        ]
        let answer = try await call("POST", base + "/session", capabilities)
        guard let session = answer["value"]?["sessionId"]?.stringValue else {
            driver.terminate()
            throw FixtureError("chromedriver made no session: \(answer.jsonString())")
        }
        return WebDriver(base: base, session: session, driver: driver)
    }

    /// Ends the session and the driver (the browser goes with it).
    func quit() async {
        _ = try? await Self.call("DELETE", "\(base)/session/\(session)")
        // chromedriver does not always stop on SIGTERM.
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
    }

    func open(_ url: String) async throws { try await command("POST", "url", ["url": .string(url)]) }

    /// Runs `script` (a function body; `arguments[0]`… are `args`) in the page and returns what it returns.
    @discardableResult
    func run(_ script: String, _ args: [JSONValue] = []) async throws -> JSONValue {
        try await command("POST", "execute/sync", ["script": .string(script), "args": .array(args)])
    }

    /// The element a CSS selector finds first (its WebDriver reference).
    func element(_ selector: String) async throws -> String {
        let value = try await command("POST", "element", ["using": "css selector", "value": .string(selector)])
        guard let id = value["element-6066-11e4-a52e-4f735466cecf"]?.stringValue else {
            throw FixtureError("no element \(selector): \(value.jsonString())")
        }
        return id
    }

    func click(_ selector: String) async throws {
        try await command("POST", "element/\(try await element(selector))/click", [:])
    }

    /// Types `text` into the element, as keystrokes.
    func type(_ selector: String, _ text: String) async throws {
        try await command("POST", "element/\(try await element(selector))/value", ["text": .string(text)])
    }

    /// Sets the window's size in CSS pixels.
    func resize(width: Int, height: Int) async throws {
        try await command("POST", "window/rect", ["width": .int(Int64(width)), "height": .int(Int64(height))])
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        let value = try await command("GET", "screenshot")
        guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
            throw FixtureError("no screenshot")
        }
        return data
    }

    /// The browser's console entries since the last call: `(level, message)`.
    func consoleLog() async throws -> [(String, String)] {
        let value = try await command("POST", "se/log", ["type": "browser"])
        return (value.arrayValue ?? []).map { ($0["level"]?.stringValue ?? "", $0["message"]?.stringValue ?? "") }
    }

    /// Polls `script` until it returns `true`, at most `seconds`.
    func waitFor(_ script: String, _ args: [JSONValue] = [], seconds: Int = 20) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await run(script, args) == .bool(true) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @discardableResult
    private func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let answer = try await Self.call(method, "\(base)/session/\(session)/\(path)", body)
        if let error = answer["value"]?["error"]?.stringValue {
            throw FixtureError("WebDriver \(path): \(error): \(answer["value"]?["message"]?.stringValue ?? "")")
        }
        return answer["value"] ?? .null
    }

    private static func call(_ method: String, _ url: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString()))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return try JSONValue.parse(String(buffer: bytes))
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
enum LoopbackPort {
    static func free() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0 else { throw FixtureError("cannot bind a loopback port") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
