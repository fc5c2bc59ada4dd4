import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WherryHTTP
import WherryModel
import WherryRender
import WherryTesting

@Suite("The artifact server")
struct ArtifactServerTests {
    /// `artifacts/` with a script, a bundle, a config, a link inside and a link out; `secret.txt` beside it.
    private func withServer(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let work = try TemporaryDirectory(prefix: "artifacts")
        defer { work.remove() }
        try work.write("artifacts/scripts/web/init.sh", "#!/bin/sh\necho start\n")
        try work.write("artifacts/apps/web/app.tar.gz", String(repeating: "x", count: 1000))
        try work.write("artifacts/configs/templates/app.json", "{\"a\": 1}\n")
        try work.write("artifacts/scripts/.hidden", "no\n")
        try work.write("secret.txt", "top secret\n")
        try FileManager.default.createSymbolicLink(
            atPath: work.path + "/artifacts/scripts/out.txt", withDestinationPath: work.path + "/secret.txt")
        try FileManager.default.createSymbolicLink(
            atPath: work.path + "/artifacts/scripts/in.sh",
            withDestinationPath: work.path + "/artifacts/scripts/web/init.sh")
        let router = Router()
        ArtifactServer(directory: work.path + "/artifacts").register(on: router)
        try await Application(router: router).test(.live) { client in try await body(client) }
    }

    @Test("serves files with their content type, length, ETag and Last-Modified; HEAD has no body")
    func serves() async throws {
        try await withServer { client in
            try await client.execute(uri: "/scripts/web/init.sh", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "#!/bin/sh\necho start\n")
                #expect(response.headers[.contentType] == "text/x-shellscript; charset=utf-8")
                #expect(response.headers[.contentLength] == "21")
                #expect(response.headers[.eTag]?.hasPrefix("\"") == true)
                #expect(response.headers[.lastModified]?.hasSuffix(" GMT") == true)
            }
            try await client.execute(uri: "/apps/web/app.tar.gz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/gzip")
                #expect(response.headers[.contentLength] == "1000")
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/configs/templates/app.json", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
            }
            // A link that stays inside is followed.
            try await client.execute(uri: "/scripts/in.sh", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(
        "no way out: dot-dot, encoded, hidden, links out, directories and other folders are 404",
        arguments: [
            "/scripts/../secret.txt", "/scripts/%2e%2e/secret.txt", "/scripts/..%2fsecret.txt",
            "/scripts/web/%2E%2E%2F%2E%2E%2Fsecret.txt", "/scripts/out.txt", "/scripts/.hidden", "/scripts/web",
            "/scripts/web/", "/scripts", "/secret.txt", "/other/web/init.sh", "/scripts/web/init.sh%00.txt",
            "/scripts/web%5C..%5C..%5Csecret.txt", "/scripts/web/missing.sh",
        ])
    func traversal(_ path: String) async throws {
        try await withServer { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .notFound, "\(path)")
                #expect(!String(buffer: response.body).contains("top secret"))
            }
        }
    }

    @Test("If-None-Match answers 304; ranges answer 206 or 416")
    func conditionalAndRanges() async throws {
        try await withServer { client in
            let etag = try await client.execute(uri: "/apps/web/app.tar.gz", method: .get) { $0.headers[.eTag] }
            try await client.execute(
                uri: "/apps/web/app.tar.gz", method: .get, headers: [.ifNoneMatch: try #require(etag)]
            ) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            // A range past the end is an error answer: JSON, like every error of the API.
            let cases: [(String, HTTPResponse.Status, String?, Int)] = [
                ("bytes=0-9", .partialContent, "bytes 0-9/1000", 10),
                ("bytes=990-", .partialContent, "bytes 990-999/1000", 10),
                ("bytes=-5", .partialContent, "bytes 995-999/1000", 5),
                ("bytes=500-5000", .partialContent, "bytes 500-999/1000", 500),
                ("bytes=1000-", .rangeNotSatisfiable, "bytes */1000", 0),
                ("bytes=0-1,5-6", .ok, nil, 1000),
                ("items=0-1", .ok, nil, 1000),
            ]
            for (range, status, contentRange, length) in cases {
                try await client.execute(uri: "/apps/web/app.tar.gz", method: .get, headers: [.range: range]) {
                    response in
                    #expect(response.status == status, "\(range)")
                    #expect(response.headers[.contentRange] == contentRange, "\(range)")
                    if status == .rangeNotSatisfiable {
                        let error = try JSONValue.parse(String(buffer: response.body))
                        #expect(
                            error["error"]?["message"] == .string("the range \(range) is outside the file's 1000 bytes")
                        )
                    } else {
                        #expect(response.body.readableBytes == length, "\(range)")
                    }
                }
            }
        }
    }
}

/// The stateless init container's script, run under `sh` against the artifact server with a real tar.gz.
@Suite("The fetch script of stateless services")
struct FetchScriptTests {
    private func run(
        script: String, port: Int, app: String, service: String = "web"
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "APP_DIR": app,
            "SERVICE_NAME": service, "DOWNLOAD_BASE_URL": "http://127.0.0.1:\(port)/",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("downloads init.sh and unpacks app.tar.gz into the app directory; a missing file fails after its tries")
    func fetches() async throws {
        let work = try TemporaryDirectory(prefix: "fetch")
        defer { work.remove() }
        try work.write("bundle/bin/hello", "#!/bin/sh\necho hello\n")
        try work.write("artifacts/scripts/web/init.sh", "#!/bin/sh\nexec /app/bin/hello\n")
        try FileManager.default.createDirectory(
            atPath: work.path + "/artifacts/apps/web", withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-czf", work.path + "/artifacts/apps/web/app.tar.gz", "-C", work.path + "/bundle", "."]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let router = Router()
        ArtifactServer(directory: work.path + "/artifacts").register(on: router)
        try await Application(router: router).test(.live) { client in
            let port = try #require(client.port)
            let app = work.path + "/app"
            let ok = try await run(script: StatelessMutation.fetchScript(attempts: 2), port: port, app: app)
            #expect(ok.status == 0, "\(ok.output)")
            #expect(ok.output.contains("is ready"))
            #expect(FileManager.default.isExecutableFile(atPath: app + "/init.sh"))
            #expect(
                (try? String(contentsOfFile: app + "/bin/hello", encoding: .utf8)) == "#!/bin/sh\necho hello\n")
            #expect(!FileManager.default.fileExists(atPath: app + "/.app.tar.gz"))
            let missing = try await run(
                script: StatelessMutation.fetchScript(attempts: 2), port: port, app: work.path + "/other",
                service: "nope")
            #expect(missing.status != 0)
            #expect(
                missing.output.contains("cannot download http://127.0.0.1:\(port)/scripts/nope/init.sh after 2 tries"))
        }
    }
}
