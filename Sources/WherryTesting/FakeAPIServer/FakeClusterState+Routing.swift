import Foundation
import WherryModel

/// Turning a request into an answer: which document or resource a path names, and which verb applies.
extension FakeClusterState {
    /// Answers one request: status code, JSON body and extra headers. Failures carry a `Status` body.
    mutating func handle(
        _ request: FakeAPIServer.RecordedRequest, now: ContinuousClock.Instant
    )
        -> (code: Int, body: JSONValue)
    {
        tick(now: now)
        do {
            return try route(request, now: now)
        } catch {
            let answer = Self.isServedByAGroupHandler(request.path) ? error : Self.notFoundText(error)
            return (answer.code, answer.body)
        }
    }

    /// Whether a path falls in the core group or a built-in group, whose handlers answer an unknown resource or
    /// version with a `Status`; anything else (another group, a CRD's version that is not served, `/nope`) reaches
    /// the real server's fallback handler, which answers the plain text `404 page not found`.
    private static func isServedByAGroupHandler(_ path: String) -> Bool {
        let segments = path.split(separator: "/")
        switch segments.first {
        case "api", "openapi", "version": return true
        case "apis": return segments.count < 2 || builtinGroups.contains(String(segments[1]))
        default: return false
        }
    }

    /// The groups of the built-in resources.
    private static let builtinGroups = Set(APIResource.builtins.map(\.group))

    /// The fallback handler's answer in place of the generic unknown-path `Status`; other failures are kept.
    private static func notFoundText(_ error: APIStatusError) -> APIStatusError {
        guard error.code == 404, error.details.isEmpty, error.message == APIStatusError.unknownPath.message else {
            return error
        }
        return APIStatusError(
            code: 404, reason: "NotFound", message: "404 page not found", plainText: "404 page not found\n")
    }

    private mutating func route(
        _ request: FakeAPIServer.RecordedRequest, now: ContinuousClock.Instant
    )
        throws(APIStatusError) -> (code: Int, body: JSONValue)
    {
        let segments = request.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let isGet = request.method == "GET"
        switch (segments.first, segments.count) {
        case ("apis", 4)
        where segments[1] == "authorization.k8s.io" && segments[2] == "v1"
            && segments[3] == "selfsubjectaccessreviews":
            return try selfSubjectAccessReview(request)
        case ("api", 1):
            guard isGet else { throw .methodNotAllowed }
            return (200, apiVersions)
        case ("api", 2):
            guard isGet else { throw .methodNotAllowed }
            return (200, try resourceList(group: "", version: segments[1]))
        case ("api", _):
            let target = try resolve(group: "", version: segments[1], rest: segments[2...])
            return try perform(request, on: target, now: now)
        case ("apis", 1):
            guard isGet else { throw .methodNotAllowed }
            return (200, groupList)
        case ("apis", 2):
            guard isGet else { throw .methodNotAllowed }
            return (200, try group(segments[1]))
        case ("apis", 3):
            guard isGet else { throw .methodNotAllowed }
            try checkAvailable(group: segments[1], version: segments[2])
            return (200, try resourceList(group: segments[1], version: segments[2]))
        case ("apis", _):
            try checkAvailable(group: segments[1], version: segments[2])
            let target = try resolve(group: segments[1], version: segments[2], rest: segments[3...])
            return try perform(request, on: target, now: now)
        case ("openapi", 2) where segments[1] == "v3" && isGet:
            return (200, openAPIIndex)
        case ("openapi", _) where segments.count >= 4 && segments[1] == "v3" && isGet:
            return (200, try openAPIDocument(groupVersion: segments[2...].joined(separator: "/")))
        case ("version", 1):
            return (
                200,
                [
                    "major": "1", "minor": "33", "gitVersion": "v1.33.0-wherry-fake", "goVersion": "none",
                    "platform": "linux/amd64",
                ]
            )
        default:
            throw .unknownPath
        }
    }

    /// The resource, namespace, name and subresource a path below `/api/v1` or `/apis/{g}/{v}` names.
    func resolve(
        group: String, version: String, rest: ArraySlice<String>
    ) throws(APIStatusError)
        -> ResourceTarget
    {
        var rest = rest
        var namespace: String?
        if rest.count >= 3, rest.first == "namespaces", !["status", "finalize"].contains(rest.dropFirst(2).first!) {
            namespace = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        guard (1...3).contains(rest.count), let resource = resource(group: group, version: version, name: rest.first!)
        else { throw .unknownPath }
        let name = rest.dropFirst().first
        let subresource = rest.dropFirst(2).first
        if resource.namespaced ? namespace == nil && name != nil : namespace != nil { throw .unknownPath }
        if let subresource, subresource != "status" || !resource.hasStatus { throw .unknownPath }
        return ResourceTarget(
            resource: resource, version: version, namespace: namespace, name: name, subresource: subresource)
    }

    /// Runs the verb on the target.
    private mutating func perform(
        _ request: FakeAPIServer.RecordedRequest, on target: ResourceTarget, now: ContinuousClock.Instant
    ) throws(APIStatusError) -> (code: Int, body: JSONValue) {
        if target.resource.readOnly, request.method != "GET" { throw .methodNotAllowed }
        switch (request.method, target.name) {
        case ("GET", nil):
            return (200, try list(target, query: request.query))
        case ("GET", let name?):
            guard let stored = objects[target.key(name: name)] else {
                throw APIStatusError.notFound(target.resource, name: name)
            }
            return (200, stored.rendered(apiVersion: target.apiVersion))
        case ("PATCH", let name?) where target.subresource == nil:
            let mediaType = (request.contentType ?? "").split(separator: ";").first.map { $0.trimmed.lowercased() }
            guard mediaType == "application/apply-patch+yaml" else {
                throw APIStatusError(
                    code: 415, reason: "UnsupportedMediaType",
                    message: "the body of the request was in an unknown format - accepted media types include: "
                        + "application/apply-patch+yaml (this test double serves server-side apply only)")
            }
            return try apply(target, name: name, body: request.body, query: request.query, now: now)
        case ("DELETE", let name?) where target.subresource == nil:
            return (200, try delete(target, name: name, body: request.body, query: request.query, now: now))
        case ("POST", nil):
            return (201, try createByPost(target, body: request.body, query: request.query, now: now))
        case ("PUT", let name?) where target.subresource == nil:
            return (200, try replace(target, name: name, body: request.body, query: request.query, now: now))
        default:
            throw .methodNotAllowed
        }
    }
}
