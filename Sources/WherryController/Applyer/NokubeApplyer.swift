import AsyncHTTPClient
import Foundation
import WherryExec
public import WherryModel

/// The seed's NoKube applier (`applyer_nokube: {cluster_name, nokube_download_url, sha256?}`): `install()`
/// downloads the `nokube` binary once to `<state_dir>/bin/nokube`, verifies its SHA-256 when the config gives one,
/// and checks that it runs; `apply` pipes the objects as YAML to `nokube apply --cluster <name>` with a timeout.
/// Failures carry the program's output.
public struct NokubeApplyer: Applyer {
    public let name = "nokube"
    public var config: NokubeApplyerConfig
    /// Where the binary is kept: `<state_dir>/bin/nokube`.
    public var binary: String
    public var timeout: Duration
    /// The most a download may be.
    public static let maxDownloadBytes = 512 << 20

    public init(config: NokubeApplyerConfig, stateDirectory: String, timeout: Duration = .seconds(300)) {
        self.config = config
        binary = stateDirectory + "/bin/nokube"
        self.timeout = timeout
    }

    public func install() async throws(ApplyerError) {
        if !FileManager.default.isExecutableFile(atPath: binary) {
            try await download()
        } else if let expected = config.sha256 {
            // A binary already there is checked too: a changed checksum in the config means another binary.
            let bytes = FileManager.default.contents(atPath: binary).map(Array.init) ?? []
            if Digest.sha256Hex(bytes) != expected.lowercased() { try await download() }
        }
        let result = try await run(["--help"], input: nil, timeout: .seconds(30))
        guard result.succeeded else {
            throw ApplyerError(
                applyer: name,
                message: "\(binary) does not run (`nokube --help` exited \(result.exitCode ?? -1)): "
                    + Self.output(result), isTransient: false)
        }
    }

    public func apply(_ objects: [KubeObject], service: String, dryRun: Bool) async throws(ApplyerError) -> ChangeSet {
        guard !dryRun else {
            throw ApplyerError(
                applyer: name, message: "nokube has no dry run; use the native applier to preview", isTransient: false)
        }
        var arguments = ["apply", "--cluster", config.clusterName]
        if let file = config.configFile { arguments += ["--config", file] }
        let result = try await run(arguments, input: ApplyerInput.yaml(objects), timeout: timeout)
        guard result.succeeded else {
            throw ApplyerError(
                applyer: name,
                message:
                    "`nokube apply` for service \(service) exited \(result.exitCode.map(String.init) ?? "by signal"): "
                    + Self.output(result), isTransient: false)
        }
        return ChangeSet(entries: ApplyOrder.sorted(objects).map { ChangeSetEntry(ref: $0.ref, action: .configured) })
    }

    /// Downloads to a temporary file beside the binary, checks the checksum, then moves it into place.
    private func download() async throws(ApplyerError) {
        let directory = (binary as NSString).deletingLastPathComponent
        let partial = binary + ".download"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            let response = try await client.execute(HTTPClientRequest(url: config.downloadURL), timeout: .seconds(120))
            guard response.status == .ok else {
                throw ApplyerError(
                    applyer: name,
                    message: "downloading nokube from \(Self.redacted(config.downloadURL)) answered "
                        + "HTTP \(response.status.code)", isTransient: true)
            }
            let body = try await response.body.collect(upTo: Self.maxDownloadBytes)
            let bytes = Array(body.readableBytesView)
            if let expected = config.sha256, Digest.sha256Hex(bytes) != expected.lowercased() {
                throw ApplyerError(
                    applyer: name,
                    message: "the nokube binary from \(Self.redacted(config.downloadURL)) has SHA-256 "
                        + "\(Digest.sha256Hex(bytes)), not the \(expected) the config expects; it was not installed",
                    isTransient: false)
            }
            FileManager.default.createFile(
                atPath: partial, contents: Data(bytes), attributes: [.posixPermissions: 0o755])
            _ = try? FileManager.default.removeItem(atPath: binary)
            try FileManager.default.moveItem(atPath: partial, toPath: binary)
        } catch let error as ApplyerError {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw ApplyerError(
                applyer: name, message: "cannot download nokube from \(Self.redacted(config.downloadURL)): \(error)",
                isTransient: true)
        }
    }

    private func run(
        _ arguments: [String], input: [UInt8]?, timeout: Duration
    ) async throws(ApplyerError) -> CommandResult {
        try await ApplyerInput.run(Command(binary, arguments, input: input, timeout: timeout), applyer: name)
    }

    /// The program's output for a message: stderr, else stdout, at most 2,000 characters.
    static func output(_ result: CommandResult) -> String {
        let stderr = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = stderr.isEmpty ? result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : stderr
        return text.count > 2000 ? String(text.prefix(2000)) + "…" : text
    }

    /// A URL without user information or secret parameters, for messages.
    static func redacted(_ url: String) -> String {
        URLRedaction.redact(url)
    }
}
