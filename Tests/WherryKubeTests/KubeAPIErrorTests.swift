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
}
