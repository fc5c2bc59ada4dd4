import Testing
import WherryKube

@Suite("Kubernetes API errors")
struct KubeAPIErrorTests {
    @Test("a meta.v1.Status body decodes into code, reason, message and causes")
    func decodesStatus() {
        let body = """
            {"kind":"Status","apiVersion":"v1","status":"Failure","message":"Deployment.apps \\"api\\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0","reason":"Invalid","details":{"name":"api","group":"apps","kind":"Deployment","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]},"code":422}
            """
        let error = KubeAPIError.decode(
            code: 422, body: Array(body.utf8), request: "PATCH /apis/apps/v1/namespaces/web/deployments/api",
            object: "Deployment/web/api")
        #expect(error.isInvalid)
        #expect(!error.isRetryable)
        #expect(error.reason == "Invalid")
        #expect(error.causes.map(\.field) == ["spec.replicas"])
        #expect(error.description.hasPrefix("Deployment/web/api: Deployment.apps \"api\" is invalid"))
        #expect(error.description.contains("\n  spec.replicas: Invalid value: -1"))
    }

    @Test(
        "a body that is not a Status still gives a useful error",
        arguments: [(404, "NotFound"), (503, "ServiceUnavailable")])
    func plainBody(code: Int, reason: String) {
        let error = KubeAPIError.decode(code: code, body: Array("upstream said no\n".utf8), request: "GET /api")
        #expect(error.reason == reason)
        #expect(error.message == "upstream said no")
        #expect(error.isNotFound == (code == 404))
        #expect(error.isRetryable == (code == 503))
    }

    @Test("a typed-patch 500 is invalid and permanent, with one cause per field")
    func typeMismatch() {
        // What a real API server (1.36) answers for two wrongly typed values: HTTP 500, no reason, no details.
        let body = #"""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): errors:\n  .spec.replicas: expected numeric (int or float), got string\n  .spec.template.spec.containers[name=\"c\"].ports[containerPort=\"80\",protocol=\"TCP\"].containerPort: expected numeric (int or float), got string","code":500}
            """#
        let error = KubeAPIError.decode(
            code: 500, body: Array(body.utf8), request: "PATCH /apis/apps/v1/namespaces/shop/deployments/web")
        #expect(error.isTypeMismatch)
        #expect(error.isInvalid)
        #expect(error.isPermanent)
        #expect(!error.isTransient)
        #expect(!error.isRetryable)
        #expect(
            error.causes.map(\.field) == [
                "spec.replicas",
                #"spec.template.spec.containers[name="c"].ports[containerPort="80",protocol="TCP"].containerPort"#,
            ])
        #expect(error.causes.first?.message == "expected numeric (int or float), got string")
        #expect(error.description.hasPrefix("a field has the wrong type for its schema (Invalid, HTTP 500"))
        #expect(error.description.contains("\n  spec.replicas: expected numeric (int or float), got string"))
    }

    @Test("an unknown field in a server-side apply is said as such, with its path (the real server's 500)")
    func unknownField() {
        // What a real API server (1.36) answers for `datta:` in a ConfigMap and `imagee:` in a container.
        let body = #"""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed to create typed patch object (e2e/x; /v1, Kind=ConfigMap): .datta: field not declared in schema","code":500}
            """#
        let error = KubeAPIError.decode(
            code: 500, body: Array(body.utf8), request: "PATCH /api/v1/namespaces/e2e/configmaps/x",
            object: "ConfigMap/e2e/x")
        #expect(error.isTypeMismatch)
        #expect(!error.isTransient)
        #expect(error.causes.map(\.field) == ["datta"])
        #expect(
            error.description
                == "ConfigMap/e2e/x: unknown field `datta` (not in the kind's schema: check the spelling and the "
                + "apiVersion) (Invalid, HTTP 500 from server-side apply)")
        #expect(!error.description.contains("wrong type"))
        let nested = #"""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed to create typed patch object (e/x; apps/v1, Kind=Deployment): errors:\n  .spec.replicas: expected numeric (int or float), got string\n  .spec.template.spec.containers[name=\"c\"].imagee: field not declared in schema","code":500}
            """#
        let both = KubeAPIError.decode(code: 500, body: Array(nested.utf8), request: "PATCH x")
        #expect(
            both.description.hasPrefix(
                #"unknown field `spec.template.spec.containers[name="c"].imagee` (not in the kind's schema: check "#
                    + "the spelling and the apiVersion); a field has the wrong type for its schema"),
            "\(both.description)")
        #expect(both.description.contains("\n  spec.replicas: expected numeric (int or float), got string"))
    }

    @Test(
        "other 500s, 503s, timeouts and lost connections stay transient; 401 and TLS are cluster-wide",
        arguments: [
            (500, "InternalError", true, false), (503, "ServiceUnavailable", true, false), (0, "Timeout", true, false),
            (0, "ConnectionFailed", true, true), (0, "TLSFailure", true, true), (401, "Unauthorized", true, true),
            (403, "Forbidden", true, false), (422, "Invalid", false, false), (400, "BadRequest", false, false),
        ])
    func classification(code: Int, reason: String, transient: Bool, clusterWide: Bool) {
        let error = KubeAPIError(code: code, reason: reason, message: "m", request: "PATCH /api/v1/x")
        #expect(error.isTransient == transient)
        #expect(error.isClusterWide == clusterWide)
    }

    @Test("a 403 on discovery is about the credentials, not an object")
    func forbiddenDiscovery() {
        let error = KubeAPIError(code: 403, reason: "Forbidden", message: "no", request: "GET /api")
        #expect(error.isClusterWide)
        #expect(error.clusterSummary(server: "https://k:6443").contains("may not read API discovery at https://k:6443"))
    }
}
