import Testing
import WherryModel
import WherryTesting

/// What the fake does on write as a real API server 1.36 does (checked against one): a Secret's `stringData` is
/// merged into `data` and never stored, while the applier owns the `stringData` fields; a pod spec's deprecated
/// `serviceAccount` is read only while `serviceAccountName` is empty; a Service's selector is one atomic field.
@Suite struct FakeAPIServerConversionTests {
    static func secret(_ values: JSONValue, field: String = "stringData", namespace: String = "shop") -> JSONValue {
        var object: JSONObject = [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s", "namespace": .string(namespace)],
        ]
        object[field] = values
        return .object(object)
    }

    @Test func stringDataIsMergedIntoDataOnApplyAndDryRunAndOwnedAsStringData() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/api/v1/namespaces/shop/secrets/s"
            let created = try await Curl.apply(server, path, Self.secret(["password": "old", "user": "me"]))
            #expect(created.status == 201)
            #expect(created.json["stringData"] == nil)
            #expect(created.json["data"] == ["password": "b2xk", "user": "bWU="])
            let managed = try #require(created.json["metadata"]?["managedFields"]?[0])
            #expect(managed["fieldsV1"] == ["f:stringData": ["f:password": [:], "f:user": [:]]])

            let dryRun = try await Curl.apply(server, path, Self.secret(["password": "new"]), dryRun: true)
            #expect(dryRun.json["data"]?["password"] == "bmV3")
            #expect(dryRun.json["stringData"] == nil)
            #expect(server.object(resource: "secrets", namespace: "shop", name: "s")?["data"]?["password"] == "b2xk")

            // stringData wins over data for the same key, as on the server.
            let both: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s", "namespace": "shop"],
                "data": ["password": "aWdub3JlZA=="], "stringData": ["password": "new"],
            ]
            let applied = try await Curl.apply(server, path, both)
            #expect(applied.json["data"]?["password"] == "bmV3")
            let stored = try #require(server.object(resource: "secrets", namespace: "shop", name: "s"))
            #expect(stored["stringData"] == nil)
        }
    }

    @Test func anotherManagersStringDataOverwritesDataWithoutConflict() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/api/v1/namespaces/shop/secrets/s"
            _ = try await Curl.apply(server, path, Self.secret(["password": "bmV3"], field: "data"))
            let other = try await Curl.apply(server, path, Self.secret(["password": "other"]), manager: "other")
            #expect(other.status == 200)
            #expect(other.json["data"]?["password"] == "b3RoZXI=")
            let managers = other.json["metadata"]?["managedFields"]?.arrayValue ?? []
            #expect(managers.first { $0["manager"] == "wherry" }?["fieldsV1"] == ["f:data": ["f:password": [:]]])
            #expect(managers.first { $0["manager"] == "other" }?["fieldsV1"] == ["f:stringData": ["f:password": [:]]])
        }
    }

    @Test func stringDataIsMergedOnUpdate() async throws {
        try await FakeAPIServer.withServer { server in
            try server.put(Self.secret(["password": "old"], namespace: "default"))
            let stored = try #require(server.object(resource: "secrets", namespace: "default", name: "s"))
            #expect(stored["data"]?["password"] == "b2xk")
            #expect(stored["stringData"] == nil)
        }
    }

    @Test func deprecatedServiceAccountIsIgnoredOnceServiceAccountNameIsSet() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/apis/apps/v1/namespaces/shop/deployments/web"
            func deployment(_ account: String) -> JSONValue {
                [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                    "spec": [
                        "selector": ["matchLabels": ["app": "web"]],
                        "template": [
                            "metadata": ["labels": ["app": "web"]],
                            "spec": ["serviceAccount": .string(account), "containers": [["name": "web"]]],
                        ],
                    ],
                ]
            }
            let created = try await Curl.apply(server, path, deployment("a"))
            #expect(created.json["spec"]?["template"]?["spec"]?["serviceAccountName"] == "a")
            #expect(created.json["spec"]?["template"]?["spec"]?["serviceAccount"] == "a")
            let changed = try await Curl.apply(server, path, deployment("b"))
            #expect(changed.json["spec"]?["template"]?["spec"]?["serviceAccountName"] == "a")
            #expect(changed.json["spec"]?["template"]?["spec"]?["serviceAccount"] == "a")
        }
    }

    @Test func aServiceSelectorIsOneFieldReplacedWhole() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/api/v1/namespaces/shop/services/web"
            func service(_ selector: JSONValue) -> JSONValue {
                [
                    "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "shop"],
                    "spec": ["selector": selector, "ports": [["port": 80]]],
                ]
            }
            let created = try await Curl.apply(server, path, service(["app": "web"]))
            let fields = created.json["metadata"]?["managedFields"]?[0]?["fieldsV1"]
            #expect(fields?["f:spec"]?["f:selector"] == [:])
            let edited = try await Curl.apply(
                server, path, service(["app": "web", "extra": "x"]), manager: "kubectl-edit", force: true)
            let managers = edited.json["metadata"]?["managedFields"]?.arrayValue ?? []
            #expect(managers.first { $0["manager"] == "wherry" }?["fieldsV1"]?["f:spec"]?["f:selector"] == nil)
            let back = try await Curl.apply(server, path, service(["app": "web"]), force: true)
            #expect(back.json["spec"]?["selector"] == ["app": "web"])
        }
    }
}
