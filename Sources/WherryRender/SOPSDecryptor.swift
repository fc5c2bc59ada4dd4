import Foundation
import WherryExec
public import WherryModel

/// Decrypts rendered objects that carry SOPS metadata (a top-level `sops:` map) with the real `sops` program and
/// an age key.
///
/// It lives in the render layer because it turns what was read into what is applied, as the kustomize build does,
/// and runs its program through WherryExec as that build runs kubectl; the controller only says when (right after
/// the manifests are read, before validation) and with which key. Plaintext never touches the disk: the encrypted
/// object goes to `sops` on standard input, the plaintext comes back on standard output, and the key travels in
/// the child's environment (`SOPS_AGE_KEY`), never in its arguments. No message this type makes holds plaintext.
public struct SOPSDecryptor: Sendable {
    /// The sops program: a name on `PATH` or a path.
    public var sops: String
    /// Longest one decryption may take.
    public var timeout: Duration

    public init(sops: String = "sops", timeout: Duration = .seconds(30)) {
        self.sops = sops
        self.timeout = timeout
    }

    /// Objects after decryption, with what output must hide.
    public struct Result: Sendable {
        /// The objects in their order, the encrypted ones decrypted.
        public var objects: [KubeObject]
        /// Per decrypted object, the JSON pointers of the values that were encrypted (see
        /// ``SecretMasking/encryptedPointers(in:)``).
        public var encryptedValues: [ObjectRef: [String]]

        public init(objects: [KubeObject], encryptedValues: [ObjectRef: [String]] = [:]) {
            self.objects = objects
            self.encryptedValues = encryptedValues
        }
    }

    /// Whether an object is SOPS-encrypted: it has a top-level `sops` map holding a `mac`.
    public static func isEncrypted(_ object: KubeObject) -> Bool {
        object.body["sops"]?.objectValue?["mac"] != nil
    }

    /// Decrypts every encrypted object with `ageKey` (the text of an age key file: `AGE-SECRET-KEY-1…` lines).
    /// `service` names who wants it in messages. Fails listing each object that cannot be decrypted, with its file
    /// and the reason; objects without SOPS metadata pass through untouched (and need no key). Ciphertext left
    /// over after it (see ``rejectCiphertext(_:)``) fails too.
    public func decrypt(
        _ objects: [KubeObject], ageKey: Redacted<String>?, service: String
    ) async throws(RenderFailure) -> Result {
        var result = Result(objects: objects, encryptedValues: [:])
        var issues: [RenderIssue] = []
        let (shared, sharedIssues) = Self.sharedMACs(objects)
        issues += sharedIssues
        for (index, object) in objects.enumerated() where Self.isEncrypted(object) && !shared.contains(index) {
            guard let ageKey else {
                issues.append(
                    issue(
                        object,
                        "is SOPS-encrypted but service \(service) has no decryption key; add decryption: "
                            + "{provider: sops, age_key_file: PATH} (or age_key_env: NAME) to the service or its "
                            + "repository"))
                continue
            }
            do {
                let plain = try await decryptOne(object, ageKey: ageKey)
                result.objects[index] = plain
                result.encryptedValues[plain.ref] = SecretMasking.encryptedPointers(in: object.body)
            } catch {
                issues += error.issues
            }
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
        try Self.rejectCiphertext(result.objects)
        return result
    }

    /// The indexes of encrypted objects that share their `sops.mac` with another (the documents of one
    /// multi-document file sops encrypted together: its MAC covers them all, so none decrypts alone), and one issue
    /// per such file.
    static func sharedMACs(_ objects: [KubeObject]) -> (indexes: Set<Int>, issues: [RenderIssue]) {
        var byMAC: [String: [Int]] = [:]
        var order: [String] = []
        for (index, object) in objects.enumerated() where isEncrypted(object) {
            guard let mac = object.body["sops"]?["mac"]?.stringValue else { continue }
            if byMAC[mac] == nil { order.append(mac) }
            byMAC[mac, default: []].append(index)
        }
        var indexes = Set<Int>()
        var issues: [RenderIssue] = []
        for mac in order {
            guard let group = byMAC[mac], group.count > 1 else { continue }
            indexes.formUnion(group)
            issues.append(
                RenderIssue(
                    location: objects[group[0]].source,
                    message: "holds \(group.count) documents sops encrypted together (they share one MAC), which "
                        + "cannot be decrypted one by one; put each document in a file of its own and encrypt each "
                        + "file with sops"))
        }
        return (indexes, issues)
    }

    private func decryptOne(_ object: KubeObject, ageKey: Redacted<String>) async throws(RenderFailure) -> KubeObject {
        let keys = ageKey.value.split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { $0.hasPrefix("AGE-SECRET-KEY-") }
        guard !keys.isEmpty else {
            throw RenderFailure(
                issue(object, "cannot be decrypted: the configured age key holds no AGE-SECRET-KEY-1… line"))
        }
        let input = Array(YAMLWriter.document(.object(object.body)).utf8)
        let command = Command(
            sops, ["--decrypt", "--input-type", "yaml", "--output-type", "json", "/dev/stdin"],
            environment: Self.environment(keys: keys), inheritsEnvironment: false, input: input, timeout: timeout,
            outputLimit: 16 << 20,
            secrets: keys)
        let run: CommandResult
        do {
            run = try await CommandRunner.run(command)
        } catch {
            let reason =
                error.kind == .notFound
                ? "sops is needed to decrypt it but '\(sops)' was not found on PATH; install sops 3.11"
                : "sops failed: \(error)"
            throw RenderFailure(issue(object, "cannot be decrypted: \(reason)"))
        }
        guard run.succeeded else {
            throw RenderFailure(issue(object, "cannot be decrypted: " + Self.reason(run.stderr, object: object)))
        }
        guard case .object(var body)? = try? JSONValue.parse(run.stdout) else {
            throw RenderFailure(issue(object, "cannot be decrypted: sops did not print a JSON object"))
        }
        body["sops"] = Optional<JSONValue>.none
        let plain = KubeObject(body: body, source: object.source)
        guard !plain.kind.isEmpty, !plain.name.isEmpty, !plain.apiVersion.isEmpty else {
            throw RenderFailure(issue(object, "decrypts to something without apiVersion, kind and metadata.name"))
        }
        return plain
    }

    /// The child's whole environment (it inherits nothing, so Wherry's credentials, `VAULT_TOKEN`, `AWS_*` and the
    /// like, never reach it): the key, `PATH`, a `HOME` holding nothing (so sops finds no key files of the user's),
    /// the C locale, and age tried first.
    static func environment(keys: [String]) -> [String: String?] {
        [
            "SOPS_AGE_KEY": keys.joined(separator: "\n"), "SOPS_DECRYPTION_ORDER": "age",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/nonexistent", "LC_ALL": "C",
        ]
    }

    /// sops' failure in one sentence: which key is missing, a MAC mismatch, or its first line of complaint.
    static func reason(_ stderr: String, object: KubeObject) -> String {
        let recipients = object.body["sops"]?["age"]?.arrayValue?.compactMap { $0["recipient"]?.stringValue } ?? []
        let shown = recipients.isEmpty ? "none for age" : recipients.joined(separator: ", ")
        let text = unwrapped(stderr)
        let noIdentity = [
            "did not match any of the recipients", "no identity matched", "incorrect identity for recipient block",
            "failed to load age identities",
        ]
        if noIdentity.contains(where: text.contains) {
            return "no age identity matches any recipient of the file (recipients: \(shown)); give Wherry the key "
                + "of one of them, or encrypt the file for Wherry's key too (sops updatekeys)"
        }
        if text.contains("MAC mismatch") {
            return "MAC mismatch: the file was changed after it was encrypted (if a kustomize overlay changes this "
                + "object, encrypt it with --encrypted-regex '^(data|stringData)$' --mac-only-encrypted)"
        }
        if text.contains("message authentication failed") {
            return "an encrypted value was changed after it was encrypted (its authentication tag does not match); "
                + "encrypt the file again with sops"
        }
        let line =
            stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && !$0.hasPrefix("[") } ?? "sops exited with an error"
        return String(line.prefix(300))
    }

    /// sops' complaint as one line: its wrapped lines joined, the `| ` (and `- | `) it indents nested errors with
    /// dropped, whitespace collapsed, so a phrase matches wherever sops broke the line.
    static func unwrapped(_ stderr: String) -> String {
        stderr.split(whereSeparator: \.isNewline).map { line -> Substring in
            var line = line.drop { $0 == " " || $0 == "\t" }
            for prefix in ["- | ", "| ", "- |", "|"] where line.hasPrefix(prefix) {
                line = line.dropFirst(prefix.count)
                break
            }
            return line
        }.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private func issue(_ object: KubeObject, _ message: String) -> RenderIssue {
        Self.issue(object, message)
    }
}
