import Testing
import WherryModel
import WherryTesting

/// Server-side apply against ``FakeAPIServer``: create, update, no-op, dry run, conflicts, ownership, validation.
@Suite struct FakeAPIServerApplyTests {
    @Test func applyCreatesUpdatesAndKeepsResourceVersionWhenUnchanged() async throws {
        try await FakeAPIServer.withServer { server in
            let namespace = try await Curl.makeNamespace(server, "shop")
            #expect(namespace.status == 201)
            #expect(namespace.json["status"]?["phase"] == "Active")

            let path = "/api/v1/namespaces/shop/configmaps/settings"
            let created = try await Curl.apply(server, path, Curl.configMap("settings", namespace: "shop"))
            #expect(created.status == 201)
            let metadata = try #require(created.json["metadata"])
            #expect(metadata["uid"]?.stringValue?.isEmpty == false)
            #expect(metadata["creationTimestamp"]?.stringValue?.hasSuffix("Z") == true)
            #expect(metadata["generation"] == 1)
            let firstVersion = try #require(metadata["resourceVersion"]?.stringValue)
            let managed = try #require(metadata["managedFields"]?.arrayValue?.first)
            #expect(managed["manager"] == "wherry")
            #expect(managed["operation"] == "Apply")
            #expect(managed["fieldsType"] == "FieldsV1")
            #expect(managed["fieldsV1"] == ["f:data": ["f:key": [:]]])

            let again = try await Curl.apply(server, path, Curl.configMap("settings", namespace: "shop"))
            #expect(again.status == 200)
            #expect(again.json["metadata"]?["resourceVersion"]?.stringValue == firstVersion)
            #expect(server.resourceVersion == firstVersion)

            let changed = try await Curl.apply(
                server, path, Curl.configMap("settings", namespace: "shop", data: ["key": "other"]))
            #expect(changed.status == 200)
            #expect(changed.json["data"]?["key"] == "other")
            let secondVersion = try #require(changed.json["metadata"]?["resourceVersion"]?.stringValue)
            #expect(Int(secondVersion)! > Int(firstVersion)!)
            #expect(
                server.object(resource: "configmaps", namespace: "shop", name: "settings")?["data"]?["key"] == "other")

            let fetched = try await Curl.get(server.baseURL + path)
            #expect(fetched.status == 200)
            #expect(fetched.json["kind"] == "ConfigMap")
            #expect(fetched.json["apiVersion"] == "v1")
        }
    }

    @Test func generationMovesWithTheSpecOnly() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/apis/apps/v1/namespaces/shop/deployments/web"
            func deployment(replicas: Int64, label: String) -> JSONValue {
                [
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": ["name": "web", "labels": ["tier": .string(label)]],
                    "spec": ["replicas": .int(replicas), "template": ["spec": ["containers": [["name": "web"]]]]],
                ]
            }
            #expect(try await Curl.apply(server, path, deployment(replicas: 1, label: "a")).status == 201)
            let relabelled = try await Curl.apply(server, path, deployment(replicas: 1, label: "b"))
            #expect(relabelled.json["metadata"]?["generation"] == 1)
            let scaled = try await Curl.apply(server, path, deployment(replicas: 3, label: "b"))
            #expect(scaled.json["metadata"]?["generation"] == 2)
            #expect(scaled.json["metadata"]?["namespace"] == "shop")
        }
    }

    @Test func dryRunStoresNothing() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let before = server.resourceVersion
            let path = "/api/v1/namespaces/shop/configmaps/preview"
            let result = try await Curl.apply(server, path, Curl.configMap("preview", namespace: "shop"), dryRun: true)
            #expect(result.status == 201)
            #expect(result.json["data"]?["key"] == "value")
            #expect(server.resourceVersion == before)
            #expect(try await Curl.get(server.baseURL + path).status == 404)

            #expect(try await Curl.apply(server, path, Curl.configMap("preview", namespace: "shop")).status == 201)
            let stored = server.resourceVersion
            let update = try await Curl.apply(
                server, path, Curl.configMap("preview", namespace: "shop", data: ["key": "new"]), dryRun: true)
            #expect(update.status == 200)
            #expect(update.json["data"]?["key"] == "new")
            #expect(server.resourceVersion == stored)
            #expect(
                server.object(resource: "configmaps", namespace: "shop", name: "preview")?["data"]?["key"] == "value")
        }
    }

    @Test func conflictWithoutForceAndSuccessWithForce() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/api/v1/namespaces/shop/configmaps/settings"
            #expect(try await Curl.apply(server, path, Curl.configMap("settings", namespace: "shop")).status == 201)
            // Someone edits the field by hand: kubectl now owns it.
            try server.put(Curl.configMap("settings", namespace: "shop", data: ["key": "edited"]))

            let refused = try await Curl.apply(server, path, Curl.configMap("settings", namespace: "shop"))
            #expect(refused.status == 409)
            #expect(refused.json["kind"] == "Status")
            #expect(refused.json["reason"] == "Conflict")
            #expect(
                refused.json["message"]?.stringValue?.hasPrefix(
                    "Apply failed with 1 conflict: conflict with \"kubectl\"") == true)
            let cause = try #require(refused.json["details"]?["causes"]?.arrayValue?.first)
            #expect(cause["reason"] == "FieldManagerConflict")
            #expect(cause["field"] == ".data.key")
            #expect(cause["message"]?.stringValue?.contains("\"kubectl\"") == true)
            #expect(
                server.object(resource: "configmaps", namespace: "shop", name: "settings")?["data"]?["key"] == "edited")

            let forced = try await Curl.apply(server, path, Curl.configMap("settings", namespace: "shop"), force: true)
            #expect(forced.status == 200)
            #expect(forced.json["data"]?["key"] == "value")
            let managers = forced.json["metadata"]?["managedFields"]?.arrayValue?.compactMap {
                $0["manager"]?.stringValue
            }
            #expect(managers == ["wherry"])

            // Two appliers: the second one conflicts with the first by name.
            let other = try await Curl.apply(
                server, path, Curl.configMap("settings", namespace: "shop", data: ["key": "value", "extra": "x"]),
                manager: "other")
            #expect(other.status == 200)
            let clash = try await Curl.apply(
                server, path, Curl.configMap("settings", namespace: "shop", data: ["extra": "y"]))
            #expect(clash.status == 409)
            #expect(clash.json["details"]?["causes"]?[0]?["message"] == "conflict with \"other\"")
        }
    }

    @Test func fieldsAManagerStopsApplyingAreRemovedUnlessSharedOrOwnedElsewhere() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let path = "/api/v1/namespaces/shop/configmaps/settings"
            let full = Curl.configMap(
                "settings", namespace: "shop", data: ["a": "1", "b": "2", "c": "3"], labels: ["team": "x"])
            #expect(try await Curl.apply(server, path, full).status == 201)
            #expect(
                try await Curl.apply(
                    server, path, Curl.configMap("settings", namespace: "shop", data: ["c": "3"]), manager: "other"
                ).status == 200)

            let trimmed = try await Curl.apply(
                server, path, Curl.configMap("settings", namespace: "shop", data: ["a": "1"]))
            #expect(trimmed.status == 200)
            #expect(trimmed.json["data"] == ["a": "1", "c": "3"])
            #expect(trimmed.json["metadata"]?["labels"] == nil)
            let wherry = trimmed.json["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == "wherry" }
            #expect(wherry?["fieldsV1"] == ["f:data": ["f:a": [:]]])
        }
    }

    @Test func invalidObjectsGetStatusWithCauses() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let badName = try await Curl.apply(
                server, "/api/v1/namespaces/shop/configmaps/Bad_Name", Curl.configMap("Bad_Name", namespace: "shop"))
            #expect(badName.status == 422)
            #expect(badName.json["reason"] == "Invalid")
            #expect(
                badName.json["message"]?.stringValue?.hasPrefix(
                    "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value") == true)
            #expect(badName.json["details"]?["kind"] == "ConfigMap")
            #expect(badName.json["details"]?["causes"]?[0]?["field"] == "metadata.name")
            #expect(badName.json["details"]?["causes"]?[0]?["reason"] == "FieldValueInvalid")

            let numbers = try await Curl.apply(
                server, "/api/v1/namespaces/shop/configmaps/numbers",
                Curl.configMap("numbers", namespace: "shop", data: ["count": 3]))
            // A real API server refuses a wrongly typed value while building the typed patch: 500, no reason.
            #expect(numbers.status == 500)
            #expect(numbers.json["reason"] == nil)
            #expect(numbers.json["details"] == nil)
            #expect(
                numbers.json["message"]
                    == "failed to create typed patch object (shop/numbers; /v1, Kind=ConfigMap): .data.count: expected string, got &value.valueUnstructured{Value:3}"
            )

            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": ["replicas": -1],
            ]
            let negative = try await Curl.apply(server, "/apis/apps/v1/namespaces/shop/deployments/web", deployment)
            #expect(negative.status == 422)
            let expected =
                "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: "
                + "must be greater than or equal to 0"
            #expect(negative.json["message"]?.stringValue == expected)
            #expect(negative.json["details"]?["group"] == "apps")
            #expect(negative.json["code"] == 422)

            var hooked = Curl.configMap("hooked", namespace: "shop")
            hooked["metadata"]?["annotations"] = ["fake.wherry.dev/invalid": "rejected for the test"]
            let hook = try await Curl.apply(server, "/api/v1/namespaces/shop/configmaps/hooked", hooked)
            #expect(hook.status == 422)
            #expect(
                hook.json["details"]?["causes"]?[0] == [
                    "reason": "FieldValueInvalid", "message": "rejected for the test", "field": "metadata.annotations",
                ])

            let noManager = try await Curl.apply(
                server, "/api/v1/namespaces/shop/configmaps/x", Curl.configMap("x", namespace: "shop"), manager: nil)
            #expect(noManager.status == 422)
            #expect(noManager.json["details"]?["causes"]?[0]?["field"] == "fieldManager")

            let mismatch = try await Curl.apply(
                server, "/api/v1/namespaces/shop/configmaps/x", Curl.configMap("y", namespace: "shop"))
            #expect(mismatch.status == 400)
            #expect(mismatch.json["reason"] == "BadRequest")
            let otherNamespace = try await Curl.apply(
                server, "/api/v1/namespaces/shop/configmaps/x", Curl.configMap("x", namespace: "elsewhere"))
            #expect(otherNamespace.status == 400)

            let mergePatch = try await Curl.send(
                "PATCH", server.baseURL + "/api/v1/namespaces/shop/configmaps/x?fieldManager=wherry", body: "{}",
                contentType: "application/merge-patch+json")
            #expect(mergePatch.status == 415)
            #expect(server.objects(resource: "configmaps").isEmpty)
        }
    }

    @Test func missingNamespaceIsNotFoundEvenForDryRun() async throws {
        try await FakeAPIServer.withServer { server in
            for dryRun in [false, true] {
                let result = try await Curl.apply(
                    server, "/api/v1/namespaces/missing/configmaps/c", Curl.configMap("c", namespace: "missing"),
                    dryRun: dryRun)
                #expect(result.status == 404)
                #expect(result.json["message"] == "namespaces \"missing\" not found")
                #expect(result.json["details"] == ["name": "missing", "kind": "namespaces"])
            }
        }
    }

    @Test func putAndSetStatusChangeTheStoreDirectly() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let stored = try server.put([
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "shop"],
                "spec": ["replicas": 2],
            ])
            #expect(stored["metadata"]?["managedFields"]?[0]?["manager"] == "kubectl")
            #expect(stored["metadata"]?["managedFields"]?[0]?["operation"] == "Update")
            #expect(
                server.setStatus(
                    ["readyReplicas": 2], group: "apps", resource: "deployments", namespace: "shop", name: "web"))
            let fetched = try await Curl.get(server.baseURL + "/apis/apps/v1/namespaces/shop/deployments/web")
            #expect(fetched.json["status"] == ["readyReplicas": 2])
            #expect(fetched.json["spec"]?["replicas"] == 2)
            #expect(throws: FixtureError.self) {
                try server.put(["apiVersion": "nope/v1", "kind": "Nope", "metadata": ["name": "n"]])
            }
            #expect(server.remove(group: "apps", resource: "deployments", namespace: "shop", name: "web"))
            #expect(server.object(group: "apps", resource: "deployments", namespace: "shop", name: "web") == nil)
        }
    }

    @Test("Services and Deployments get the server's defaults, which a repeated apply leaves alone")
    func defaults() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let service: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
                "spec": ["selector": ["app": "web"], "ports": [["port": 80]]],
            ]
            let path = "/api/v1/namespaces/shop/services/web"
            let first = try await Curl.apply(server, path, service)
            #expect(first.json["spec"]?["type"] == "ClusterIP")
            #expect(first.json["spec"]?["ports"] == [["port": 80, "protocol": "TCP", "targetPort": 80]])
            let clusterIP = try #require(first.json["spec"]?["clusterIP"]?.stringValue)
            let again = try await Curl.apply(server, path, service)
            #expect(again.json["spec"]?["clusterIP"]?.stringValue == clusterIP)
            #expect(again.json["metadata"]?["resourceVersion"] == first.json["metadata"]?["resourceVersion"])
            // The defaults belong to no field manager.
            let wherry = again.json["metadata"]?["managedFields"]?[0]?["fieldsV1"]
            #expect(wherry?["f:spec"]?["f:type"] == nil)

            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                "spec": [
                    "selector": ["matchLabels": ["app": "web"]],
                    "template": [
                        "metadata": ["labels": ["app": "web"]],
                        "spec": ["containers": [["name": "web", "image": "nginx:1.27"]]],
                    ],
                ],
            ]
            let created = try await Curl.apply(server, "/apis/apps/v1/namespaces/shop/deployments/web", deployment)
            #expect(created.json["spec"]?["replicas"] == 1)
            #expect(created.json["spec"]?["strategy"]?["type"] == "RollingUpdate")
            #expect(
                created.json["spec"]?["template"]?["spec"]?["containers"]?[0]?["imagePullPolicy"] == "IfNotPresent")
        }
    }
}
