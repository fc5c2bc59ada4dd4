import WherryModel

/// An error from the Kubernetes API server, decoded from its `meta.v1.Status` body, or a transport failure.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    /// One field-level cause from `details.causes`.
    public struct Cause: Sendable, Hashable {
        /// Machine-readable reason, e.g. `FieldValueInvalid`.
        public var reason: String
        /// Human-readable message.
        public var message: String
        /// The field path, e.g. `spec.replicas`.
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// HTTP status code; 0 when the request never got an answer (connection, TLS, timeout).
    public var code: Int
    /// `reason` from the Status (`NotFound`, `Conflict`, `Invalid`, ...), or a transport reason.
    public var reason: String
    /// The server's message, or what went wrong on the way.
    public var message: String
    /// Field causes, for `Invalid` errors.
    public var causes: [Cause]
    /// The verb and path, e.g. `PATCH /api/v1/namespaces/a/configmaps/b`.
    public var request: String
    /// The object concerned, as `Kind/ns/name`, when known.
    public var object: String?
    /// Seconds the server asked us to wait (`Retry-After`), when it did.
    public var retryAfter: Int?

    public init(
        code: Int, reason: String, message: String, causes: [Cause] = [], request: String, object: String? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.request = request
        self.object = object
    }

    /// The object does not exist.
    public var isNotFound: Bool { code == 404 }
    /// The write conflicted (field manager conflict or a stale resourceVersion).
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    /// The object was rejected for its content: `422 Invalid`, or the `500` a real API server answers when an
    /// applied value has the wrong type (see ``isTypeMismatch``).
    public var isInvalid: Bool { code == 422 || isTypeMismatch }
    /// The server asked the client to slow down.
    public var isTooManyRequests: Bool { code == 429 }
    /// The request never got an HTTP answer.
    public var isTransport: Bool { code == 0 }
    /// The request was cancelled (shutdown, or a newer trigger); not a failure of the object or the cluster.
    public var isCancelled: Bool { code == 0 && reason == "Cancelled" }
    /// Whether the same request may succeed when retried at once: throttling, server errors, lost connections.
    /// TLS and authentication failures are not retried: they will not fix themselves. Neither is a type mismatch,
    /// which the API server reports as a 500.
    public var isRetryable: Bool {
        guard !isInvalid else { return false }
        return code == 429 || (code >= 500 && code != 501) || (code == 0 && reason == "ConnectionFailed")
    }

    public var description: String {
        var text = object.map { "\($0): " } ?? ""
        let unknown = causes.filter { $0.reason == Self.unknownFieldReason }
        var listed = causes
        if isTypeMismatch, !causes.isEmpty {
            // The server's own wording repeats the causes and calls the object's mistake an internal error.
            var parts: [String] = []
            if !unknown.isEmpty {
                parts.append(
                    unknown.map(\.message).joined(separator: ", ")
                        + " (not in the kind's schema: check the spelling and the apiVersion)")
                listed = causes.filter { $0.reason != Self.unknownFieldReason }
            }
            if !listed.isEmpty { parts.append("a field has the wrong type for its schema") }
            text += parts.joined(separator: "; ") + " (Invalid, HTTP 500 from server-side apply)"
        } else {
            text += "\(message) (\(reason)"
            text += code > 0 ? ", HTTP \(code))" : ")"
        }
        for cause in listed where !cause.field.isEmpty || !cause.message.isEmpty {
            text += "\n  \(cause.field.isEmpty ? "" : cause.field + ": ")\(cause.message)"
        }
        return text
    }

    /// Decodes a non-2xx answer. A body that is not a Status still yields a useful error.
    public static func decode(code: Int, body: [UInt8], request: String, object: String? = nil) -> KubeAPIError {
        let text = String(decoding: body, as: UTF8.self)
        guard let status = try? JSONValue.parse(text), status["kind"]?.stringValue == "Status" else {
            let snippet = text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300)
            return KubeAPIError(
                code: code, reason: reasonForCode(code),
                message: snippet.isEmpty ? "the API server answered HTTP \(code)" : String(snippet), request: request,
                object: object)
        }
        var causes =
            status["details"]?["causes"]?.arrayValue?.map { cause in
                Cause(
                    reason: cause["reason"]?.stringValue ?? "", message: cause["message"]?.stringValue ?? "",
                    field: cause["field"]?.stringValue ?? "")
            } ?? []
        let message = status["message"]?.stringValue ?? "the API server answered HTTP \(code)"
        if code == 500, causes.isEmpty { causes = typeMismatchCauses(message) }
        return KubeAPIError(
            code: code, reason: status["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? reasonForCode(code),
            message: message, causes: causes, request: request, object: object)
    }

    static func reasonForCode(_ code: Int) -> String {
        switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 409: "Conflict"
        case 410: "Expired"
        case 415: "UnsupportedMediaType"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "Unknown"
        }
    }
}
