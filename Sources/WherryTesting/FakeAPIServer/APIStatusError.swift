import WherryModel

/// A failure ``FakeAPIServer`` answers with a `meta.v1.Status` body, as the real API server does.
struct APIStatusError: Error, Sendable {
    /// HTTP status code.
    var code: Int
    /// `reason`, e.g. `NotFound`.
    var reason: String
    /// Human-readable message.
    var message: String
    /// `details`, when the failure concerns an object.
    var details: JSONObject = [:]
    /// Extra response headers (`Retry-After`).
    var headers: [String: String] = [:]
    /// A plain-text body sent instead of a `Status`, as the aggregator does for an unavailable extension server.
    var plainText: String?

    /// The `Status` body, or the plain text as a JSON string (sent as `text/plain`).
    var body: JSONValue {
        if let plainText { return .string(plainText) }
        var status: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
        ]
        // The real server leaves out what it does not know (a typed-patch 500 has neither).
        if !reason.isEmpty { status["reason"] = .string(reason) }
        if !details.isEmpty { status["details"] = .object(details) }
        status["code"] = .int(Int64(code))
        return .object(status)
    }

    /// `details` naming an object: `{"name", "group", "kind"}` with empty members left out, as the server does.
    static func details(name: String, group: String, kind: String, causes: [JSONValue]? = nil) -> JSONObject {
        var details = JSONObject()
        if !name.isEmpty { details["name"] = .string(name) }
        if !group.isEmpty { details["group"] = .string(group) }
        if !kind.isEmpty { details["kind"] = .string(kind) }
        if let causes { details["causes"] = .array(causes) }
        return details
    }

    /// A cause entry of `details.causes`.
    static func cause(reason: String, message: String, field: String) -> JSONValue {
        ["reason": .string(reason), "message": .string(message), "field": .string(field)]
    }

    /// 404 for a path the server does not serve.
    static let unknownPath = APIStatusError(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    /// 404 for a missing object: `deployments.apps "web" not found`.
    static func notFound(_ resource: APIResource, name: String) -> APIStatusError {
        APIStatusError(
            code: 404, reason: "NotFound", message: "\(resource.groupResource) \"\(name)\" not found",
            details: details(name: name, group: resource.group, kind: resource.name))
    }

    /// 409 for a write whose resourceVersion is not the stored one.
    static func modified(_ resource: APIResource, name: String) -> APIStatusError {
        APIStatusError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource.groupResource) \"\(name)\": the object has been "
                + "modified; please apply your changes to the latest version and try again",
            details: details(name: name, group: resource.group, kind: resource.name))
    }

    /// 400 with a message.
    static func badRequest(_ message: String) -> APIStatusError {
        APIStatusError(code: 400, reason: "BadRequest", message: message)
    }

    /// 405 for a verb the resource (or this test double) does not allow.
    static let methodNotAllowed = APIStatusError(
        code: 405, reason: "MethodNotAllowed",
        message: "the server does not allow this method on the requested resource")

    /// 422 naming the object and its field causes: `Deployment.apps "web" is invalid: spec.replicas: ...`.
    static func invalid(_ resource: APIResource, name: String, causes: [JSONValue]) -> APIStatusError {
        let parts = causes.map { cause in
            let field = cause["field"]?.stringValue ?? ""
            let message = cause["message"]?.stringValue ?? ""
            return field.isEmpty ? message : "\(field): \(message)"
        }
        let summary = parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
        return APIStatusError(
            code: 422, reason: "Invalid", message: "\(resource.groupKind) \"\(name)\" is invalid: \(summary)",
            details: details(name: name, group: resource.group, kind: resource.kind, causes: causes))
    }

    /// The reason the API server gives with a status code.
    static func reason(forCode code: Int) -> String {
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
