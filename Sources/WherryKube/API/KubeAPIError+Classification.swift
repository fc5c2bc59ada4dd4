extension KubeAPIError {
    /// What a real API server says, with HTTP 500, when an applied value has the wrong type for its schema
    /// (`spec.replicas: "three"`): the object's fault, permanent, and not worth a retry.
    static let typedPatchFailure = "failed to create typed patch object"

    /// The real server's words (in a typed-patch 500) for a field its schema does not declare.
    static let undeclaredField = "field not declared in schema"

    /// The reason of a cause that names a field the schema does not declare (strict field validation's word).
    public static let unknownFieldReason = "FieldValueUnknown"

    /// The applied object does not match its schema's types (a 500 from server-side apply).
    public var isTypeMismatch: Bool { code == 500 && message.contains(Self.typedPatchFailure) }

    /// Whether the object itself is at fault, so that retrying without a change in Git cannot help: invalid
    /// content, a malformed request, a body too large or a kind the server does not take this way.
    public var isPermanent: Bool {
        isInvalid || [400, 405, 413, 415].contains(code)
    }

    /// Whether a later attempt may succeed without a change in Git: the cluster, the network, throttling, RBAC or a
    /// missing dependency (a Namespace, a CRD) may change meanwhile.
    public var isTransient: Bool { !isPermanent && !isCancelled }

    /// Whether the failure is a fact about the cluster or the credentials rather than about one object: the server
    /// cannot be reached, TLS fails, the credentials are rejected, or they may not even read API discovery. Every
    /// other request would fail the same way, so it is reported once and the remaining work is skipped.
    public var isClusterWide: Bool {
        switch code {
        case 0: ["ConnectionFailed", "ConnectTimeout", "TLSFailure", "TLSConfiguration"].contains(reason)
        case 401: true
        case 403: Self.discoveryRequests.contains(request)
        default: false
        }
    }

    /// The requests every client makes first; a 403 on them means the credentials can do nothing useful.
    static let discoveryRequests: Set<String> = ["GET /api", "GET /apis"]

    /// One readable sentence for a cluster-wide failure: what happened, with the server URL, and what to check.
    public func clusterSummary(server: String) -> String {
        switch (code, reason) {
        case (401, _):
            return
                "the API server at \(server) rejected the credentials (HTTP 401 Unauthorized); check the kubeconfig "
                + "user's token or client certificate: it may be expired, revoked or for another cluster"
        case (403, _):
            return
                "the credentials may not read API discovery at \(server) (HTTP 403 Forbidden: \(message)); grant "
                + "them `get` on the non-resource URLs /api and /apis (every authenticated user has it by default)"
        case (_, "TLSFailure"), (_, "TLSConfiguration"):
            return "TLS with the API server at \(server) failed: \(message)"
        default:
            return
                "cannot reach the API server at \(server): \(message); check that the cluster is running and that "
                + "the kubeconfig's server address is right"
        }
    }

    /// The field causes inside a type-mismatch message, such as
    /// `failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric`.
    static func typeMismatchCauses(_ message: String) -> [Cause] {
        guard let range = message.range(of: Self.typedPatchFailure),
            let detailStart = message[range.upperBound...].range(of: "): ")
        else { return [] }
        let detail = message[detailStart.upperBound...]
        var causes: [Cause] = []
        for line in detail.split(separator: "\n") {
            let text = line.drop(while: { $0 == " " || $0 == "-" })
            guard text.hasPrefix("."), let colon = text.range(of: ": ") else { continue }
            let field = String(text[text.index(after: text.startIndex)..<colon.lowerBound])
            let problem = String(text[colon.upperBound...])
            // A field the schema does not have: a typo, or a field of another apiVersion.
            if problem == Self.undeclaredField {
                causes.append(Cause(reason: Self.unknownFieldReason, message: "unknown field `\(field)`", field: field))
            } else {
                causes.append(Cause(reason: "FieldValueTypeInvalid", message: problem, field: field))
            }
        }
        return causes
    }
}
