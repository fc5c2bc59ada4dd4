import Foundation
import Testing
import WherryModel
import WherryTesting

/// Discovery documents, unknown paths, and CustomResourceDefinitions registering their resources.
@Suite struct FakeAPIServerDiscoveryTests {
    @Test func discoveryDocumentsDescribeTheBuiltIns() async throws {
        try await FakeAPIServer.withServer { server in
            #expect(server.baseURL.hasPrefix("http://127.0.0.1:"))
            let api = try await Curl.get(server.baseURL + "/api")
            #expect(api.status == 200)
            #expect(api.json["kind"] == "APIVersions")
            #expect(api.json["versions"] == ["v1"])

            let core = try await Curl.get(server.baseURL + "/api/v1")
            #expect(core.json["kind"] == "APIResourceList")
            #expect(core.json["groupVersion"] == "v1")
            let resources = core.json["resources"]?.arrayValue ?? []
            let configMaps = try #require(resources.first { $0["name"] == "configmaps" })
            #expect(configMaps["namespaced"] == true)
            #expect(configMaps["kind"] == "ConfigMap")
            #expect(configMaps["singularName"] == "configmap")
            #expect(configMaps["verbs"]?.arrayValue?.contains("patch") == true)
            #expect(resources.first { $0["name"] == "namespaces" }?["namespaced"] == false)
            #expect(resources.contains { $0["name"] == "pods/status" })

            let groups = try await Curl.get(server.baseURL + "/apis")
            #expect(groups.json["kind"] == "APIGroupList")
            let apps = try #require(groups.json["groups"]?.arrayValue?.first { $0["name"] == "apps" })
            #expect(apps["preferredVersion"] == ["groupVersion": "apps/v1", "version": "v1"])
            let names = groups.json["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            for group in [
                "apps", "batch", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "networking.k8s.io", "policy",
                "storage.k8s.io",
            ] {
                #expect(names.contains(group))
            }

            let appsV1 = try await Curl.get(server.baseURL + "/apis/apps/v1")
            #expect(appsV1.json["groupVersion"] == "apps/v1")
            let appsResources = appsV1.json["resources"]?.arrayValue ?? []
            #expect(appsResources.first { $0["name"] == "deployments" }?["kind"] == "Deployment")
            #expect(appsResources.contains { $0["name"] == "deployments/status" })
            let rbac = try await Curl.get(server.baseURL + "/apis/rbac.authorization.k8s.io/v1")
            let clusterRoles = rbac.json["resources"]?.arrayValue?.first { $0["name"] == "clusterroles" }
            #expect(clusterRoles?["namespaced"] == false)
        }
    }

    @Test func unknownPathsAnswerNotFoundStatus() async throws {
        try await FakeAPIServer.withServer { server in
            for path in ["/api/v1/widgets", "/apis/apps/v1/namespaces/a/widgets/x", "/apis/apps/v2/deployments"] {
                let result = try await Curl.get(server.baseURL + path)
                #expect(result.status == 404, "\(path)")
                #expect(result.json["kind"] == "Status")
                #expect(result.json["status"] == "Failure")
                #expect(result.json["message"] == "the server could not find the requested resource")
                #expect(result.json["code"] == 404)
            }
            // Paths outside the built-in groups reach the real server's fallback handler: plain text, no Status.
            for path in ["/apis/example.com/v1", "/apis/example.com/v1/namespaces/a/widgets/x", "/nope"] {
                let result = try await Curl.get(server.baseURL + path)
                #expect(result.status == 404, "\(path)")
                #expect(result.text == "404 page not found\n", "\(path)")
            }
            let missing = try await Curl.get(server.baseURL + "/apis/apps/v1/namespaces/a/deployments/web")
            #expect(missing.json["message"] == "deployments.apps \"web\" not found")
            #expect(missing.json["details"] == ["name": "web", "group": "apps", "kind": "deployments"])
        }
    }

    @Test func customResourceDefinitionRegistersItsResource() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let widgetPath = "/apis/example.com/v1/namespaces/shop/widgets/w1"
            let before = try await Curl.apply(server, widgetPath, Self.widget("w1"))
            #expect(before.status == 404)

            let crd = try await Curl.apply(
                server, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", Self.crd)
            #expect(crd.status == 201)
            let conditions = crd.json["status"]?["conditions"]?.arrayValue ?? []
            #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
            #expect(conditions.contains { $0["type"] == "NamesAccepted" && $0["status"] == "True" })

            let groups = try await Curl.get(server.baseURL + "/apis")
            let example = groups.json["groups"]?.arrayValue?.first { $0["name"] == "example.com" }
            #expect(example?["preferredVersion"]?["version"] == "v1")
            let list = try await Curl.get(server.baseURL + "/apis/example.com/v1")
            let widgets = try #require(list.json["resources"]?.arrayValue?.first { $0["name"] == "widgets" })
            #expect(widgets["kind"] == "Widget")
            #expect(widgets["namespaced"] == true)
            #expect(widgets["shortNames"] == ["wd"])

            let created = try await Curl.apply(server, widgetPath, Self.widget("w1"))
            #expect(created.status == 201)
            #expect(created.json["spec"] == ["size": 3])
            let items = try await Curl.get(server.baseURL + "/apis/example.com/v1/widgets")
            #expect(items.json["kind"] == "WidgetList")
            #expect(items.json["items"]?[0]?["kind"] == "Widget")

            let invalid = try await Curl.apply(
                server, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com",
                Self.crd.replacing(name: "gadgets.example.com"))
            #expect(invalid.status == 422)
            #expect(invalid.json["details"]?["causes"]?[0]?["field"] == "metadata.name")
        }
    }

    @Test func customResourceDefinitionCanTakeTimeToBeEstablished() async throws {
        try await FakeAPIServer.withServer { server in
            // Long enough that the first checks run before it, even when curl is slow to start.
            server.crdEstablishDelay = .seconds(6)
            try await Curl.makeNamespace(server, "shop")
            let crd = try await Curl.apply(
                server, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", Self.crd)
            #expect(crd.status == 201)
            #expect(crd.json["status"]?["conditions"] == nil)
            let widgetPath = "/apis/example.com/v1/namespaces/shop/widgets/w1"
            #expect(try await Curl.apply(server, widgetPath, Self.widget("w1")).status == 404)
            let established = try await eventually(within: .seconds(30)) {
                let crd = try await Curl.get(
                    server.baseURL + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
                let conditions = crd.json["status"]?["conditions"]?.arrayValue ?? []
                return conditions.contains { $0["type"] == "Established" && $0["status"] == "True" }
            }
            #expect(established)
            #expect(try await Curl.apply(server, widgetPath, Self.widget("w1")).status == 201)
        }
    }

    static let crd: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "widgets.example.com"],
        "spec": [
            "group": "example.com", "scope": "Namespaced",
            "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
            "versions": [
                [
                    "name": "v1", "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                ]
            ],
        ],
    ]

    static func widget(_ name: String) -> JSONValue {
        ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)], "spec": ["size": 3]]
    }
}

extension JSONValue {
    /// The object with another `metadata.name`.
    fileprivate func replacing(name: String) -> JSONValue {
        var copy = self
        copy["metadata"]?["name"] = .string(name)
        return copy
    }
}
