import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
public import WherryController
import WherryModel

/// `POST /v1/gitops/webhook/github`: a GitHub push starts the services that follow the pushed repository and
/// branch at once, instead of at the next poll. Every delivery must carry `X-Hub-Signature-256`, the HMAC-SHA256
/// of the raw body with the secret from `webhook_secret_env`, checked in constant time; without a secret
/// configured the route is off (403), never open. `ping` is answered, other events are accepted and ignored, and
/// bodies over 1 MiB are refused (413). A push for followed services that reaches a follower answers 503 naming the
/// leader (as a manual sync does), so GitHub shows the delivery failed instead of it waiting in a queue no loop
/// reads.
public struct GitHubWebhook: Sendable {
    /// The loop's config: the one in force, also after a reload.
    public var config: WherryConfig { loop.config }
    public let loop: ReconcileLoop
    private let secret: [UInt8]?
    /// The leader election, when several replicas run: only the leader reconciles.
    private let elector: LeaderElector?

    /// The largest delivery read.
    public static let maxBodyBytes = 1 << 20

    public init(config: WherryConfig, loop: ReconcileLoop, secret: String?, elector: LeaderElector? = nil) {
        self.elector = elector
        self.loop = loop
        self.secret = secret.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    /// Adds the route to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/gitops/webhook/github") { request, _ in try await handle(request) }
    }

    /// Answers one delivery; a body that cannot be read is thrown (``JSONErrorMiddleware`` answers it).
    func handle(_ request: Request) async throws -> Response {
        guard let secret else {
            return StatusAPI.error(
                .forbidden,
                "the GitHub webhook is off: set webhook_secret_env in the config to the name of an environment "
                    + "variable that holds the webhook's secret")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return StatusAPI.error(.contentTooLarge, "a webhook delivery is read up to \(Self.maxBodyBytes) bytes")
        }
        let bytes = Array(body.readableBytesView)
        guard let signature = request.headers[HTTPField.Name("X-Hub-Signature-256")!],
            Self.verify(signature: signature, body: bytes, secret: secret)
        else {
            return StatusAPI.error(.unauthorized, "missing or invalid X-Hub-Signature-256")
        }
        switch request.headers[HTTPField.Name("X-GitHub-Event")!] ?? "" {
        case "ping":
            return StatusAPI.json(["status": "pong"])
        case "push":
            return push(bytes)
        case let event:
            return StatusAPI.json(["status": "ignored", "event": .string(event)], status: .accepted)
        }
    }

    /// Starts the services of the pushed repository and branch.
    private func push(_ body: [UInt8]) -> Response {
        guard let payload = try? JSONValue.parse(body), let ref = payload["ref"]?.stringValue else {
            return StatusAPI.error(.badRequest, "a push delivery needs a JSON body with 'ref' and 'repository'")
        }
        guard ref.hasPrefix("refs/heads/") else {
            return StatusAPI.json(["status": "ignored", "reason": "not a branch"], status: .accepted)
        }
        let branch = String(ref.dropFirst("refs/heads/".count))
        let repository = payload["repository"]
        let pushed = Set(
            ["clone_url", "ssh_url", "git_url", "html_url", "url"].compactMap { repository?[$0]?.stringValue }.map(
                Self.normalizedRemote))
        let fullName = repository?["full_name"]?.stringValue?.lowercased()
        let keys = config.repositories.filter { candidate in
            guard candidate.branch == branch else { return false }
            if pushed.contains(Self.normalizedRemote(candidate.url)) { return true }
            if let owner = candidate.owner, let name = candidate.name, let fullName {
                return "\(owner)/\(name)".lowercased() == fullName
            }
            return false
        }.map(\.key)
        let services = config.services.filter { keys.contains($0.repository) && !loop.isSuspended($0.name) }.map(\.name)
        if !services.isEmpty, let elector, !elector.isLeader { return StatusAPI.notLeader(elector) }
        for service in services { loop.trigger(service: service, .webhook) }
        return StatusAPI.json(
            ["status": services.isEmpty ? "ignored" : "queued", "services": .array(services.map(JSONValue.string))],
            status: .accepted)
    }

    /// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` with `secret`, compared in constant time.
    static func verify(signature: String, body: [UInt8], secret: [UInt8]) -> Bool {
        guard signature.hasPrefix("sha256="), let mac = hexBytes(signature.dropFirst(7)), mac.count == 32 else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: secret))
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// A remote URL in one comparable form, whatever way it was written: `host/owner/name`, lower-case, without
    /// scheme, user, `.git` or trailing slash (`https://github.com/O/R.git`, `git@github.com:o/r` and
    /// `ssh://git@github.com/o/r` are the same repository).
    static func normalizedRemote(_ url: String) -> String {
        var text = URLRedaction.redact(url).lowercased()
        var scpLike = true
        for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] where text.hasPrefix(scheme) {
            text.removeFirst(scheme.count)
            scpLike = false
        }
        if let at = text.firstIndex(of: "@"), text[..<at].allSatisfy({ $0 != "/" }) {
            text = String(text[text.index(after: at)...])
        }
        if scpLike, let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
            text.replaceSubrange(colon...colon, with: "/")
        }
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(".git") { text.removeLast(4) }
        return text
    }
}
