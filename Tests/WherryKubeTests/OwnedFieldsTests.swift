import Testing
import WherryKube
import WherryModel

/// Deciding "unchanged" from what Wherry owns, with `managedFields` as a real API server (1.36) writes them.
@Suite("Owned fields decide whether an apply changes anything")
struct OwnedFieldsTests {
    /// Wherry's apply entry for a Deployment, copied from a real API server.
    static let wherryFields =
        #"{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{},"f:wherry.dev/service":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:a":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#
    /// The Deployment controller's entry: the revision annotation and status, through the status subresource.
    static let controllerFields =
        #"{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}},"f:status":{"f:observedGeneration":{},"f:replicas":{}}}"#

    static func deployment(
        image: String = "nginx:1", replicas: Int = 1, revision: String? = nil, fields: String = wherryFields,
        resourceVersion: String = "10"
    ) -> JSONValue {
        var managed = [
            #"{"manager":"wherry","operation":"Apply","apiVersion":"apps/v1","time":"2026-11-25T21:35:08Z","fieldsType":"FieldsV1","fieldsV1":\#(fields)}"#
        ]
        var annotations = ""
        if let revision {
            managed.append(
                #"{"manager":"kube-controller-manager","operation":"Update","subresource":"status","apiVersion":"apps/v1","time":"2026-11-25T21:35:09Z","fieldsType":"FieldsV1","fieldsV1":\#(controllerFields)}"#
            )
            annotations = #","annotations":{"deployment.kubernetes.io/revision":"\#(revision)"}"#
        }
        let status = revision == nil ? "" : #","status":{"observedGeneration":1,"replicas":\#(replicas)}"#
        let text = #"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"\#(resourceVersion)","generation":1,"labels":{"app.kubernetes.io/managed-by":"wherry","wherry.dev/service":"shop"}\#(annotations),"managedFields":[\#(managed.joined(separator: ","))]},"spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"\#(image)","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}\#(status)}
            """#
        return try! JSONValue.parse(text)
    }

    @Test("what other controllers write (annotation, status, resourceVersion) is not a change")
    func controllerWritesIgnored() {
        let dryRun = Self.deployment(resourceVersion: "10")
        let live = Self.deployment(revision: "1", resourceVersion: "12")
        #expect(OwnedFields.sameOwnedState(live, dryRun, manager: "wherry"))
    }

    @Test("a different value in an owned field is a change, down in a keyed list item too")
    func ownedValueChanged() {
        let live = Self.deployment(revision: "1")
        #expect(!OwnedFields.sameOwnedState(live, Self.deployment(image: "nginx:2"), manager: "wherry"))
        #expect(!OwnedFields.sameOwnedState(live, Self.deployment(replicas: 3), manager: "wherry"))
    }

    @Test("a field Wherry no longer applies is a change, even when the value stays")
    func ownershipShrinks() {
        let fewer = OwnedFieldsTests.wherryFields.replacingOccurrences(of: #""f:replicas":{},"#, with: "")
        let live = Self.deployment(revision: "1")
        #expect(!OwnedFields.sameOwnedState(live, Self.deployment(fields: fewer), manager: "wherry"))
    }

    @Test("an object Wherry never applied must be adopted")
    func noEntry() {
        let live = Self.deployment()
        #expect(!OwnedFields.sameOwnedState(live, Self.deployment(), manager: "someone-else"))
    }

    @Test("set items (v:) and positions (i:) are compared by presence and value")
    func setItems() throws {
        func object(_ finalizers: String, _ args: String) throws -> JSONValue {
            try JSONValue.parse(
                #"{"metadata":{"finalizers":\#(finalizers),"managedFields":[{"manager":"wherry","operation":"Apply","fieldsV1":{"f:metadata":{"f:finalizers":{"v:\"a\"":{}}},"f:spec":{"f:args":{"i:1":{}}}}}]},"spec":{"args":\#(args)}}"#
            )
        }
        let base = try object(#"["a","b"]"#, #"["x","y"]"#)
        #expect(OwnedFields.sameOwnedState(base, try object(#"["b","a"]"#, #"["z","y"]"#), manager: "wherry"))
        #expect(!OwnedFields.sameOwnedState(base, try object(#"["b"]"#, #"["x","y"]"#), manager: "wherry"))
        #expect(!OwnedFields.sameOwnedState(base, try object(#"["a"]"#, #"["x","w"]"#), manager: "wherry"))
    }
}
