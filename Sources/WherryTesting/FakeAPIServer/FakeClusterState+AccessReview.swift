import Foundation
import WherryModel

/// One rule of the fake's authorizer: what it refuses. An empty member matches anything.
public struct DeniedAccess: Sendable, Hashable {
    public var verb: String
    public var group: String
    public var resource: String
    public var namespace: String

    public init(verb: String = "", group: String = "", resource: String = "", namespace: String = "") {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.namespace = namespace
    }

    func matches(verb: String, group: String, resource: String, namespace: String) -> Bool {
        (self.verb.isEmpty || self.verb == verb) && (self.group.isEmpty || self.group == group)
            && (self.resource.isEmpty || self.resource == resource)
            && (self.namespace.isEmpty || self.namespace == namespace)
    }
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, as the real server answers it: 201 with the
/// review echoed (an empty `group` left out, `managedFields` from `fieldManager`) and `status.allowed`, plus a
/// `reason` naming the binding when allowed; a denied review has `allowed: false` and no reason. The fake's
/// authorizer allows everything except what `deniedAccess` lists (it does not enforce its rules on other requests).
extension FakeClusterState {
    func selfSubjectAccessReview(
        _ request: FakeAPIServer.RecordedRequest
    ) throws(APIStatusError) -> (
        code: Int, body: JSONValue
    ) {
        guard request.method == "POST" else { throw .methodNotAllowed }
        guard let review = try? JSONValue.parse(request.body), let spec = review["spec"]?.objectValue,
            let attributes = spec["resourceAttributes"]?.objectValue
        else {
            throw APIStatusError(
                code: 400, reason: "BadRequest",
                message: "SelfSubjectAccessReview in version \"v1\" cannot be handled: spec.resourceAttributes missing")
        }
        func attribute(_ key: String) -> String { attributes[key]?.stringValue ?? "" }
        var echoed = JSONObject()
        for (key, value) in attributes.members where value != "" { echoed[key] = value }
        let denied = deniedAccess.contains {
            $0.matches(
                verb: attribute("verb"), group: attribute("group"), resource: attribute("resource"),
                namespace: attribute("namespace"))
        }
        var status: JSONObject = ["allowed": .bool(!denied)]
        if !denied { status["reason"] = "RBAC: allowed by ClusterRoleBinding \"fake-admin\"" }
        var metadata = JSONObject()
        if let manager = request.query["fieldManager"] {
            metadata["managedFields"] = [
                [
                    "manager": .string(manager), "operation": "Update", "apiVersion": "authorization.k8s.io/v1",
                    "fieldsType": "FieldsV1",
                ]
            ]
        }
        return (
            201,
            [
                "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": .object(metadata), "spec": ["resourceAttributes": .object(echoed)],
                "status": .object(status),
            ]
        )
    }
}

extension FakeAPIServer {
    /// Makes SelfSubjectAccessReviews that match `rule` answer `allowed: false`.
    public func deny(_ rule: DeniedAccess) {
        state.withLock { $0.deniedAccess.append(rule) }
    }
}
