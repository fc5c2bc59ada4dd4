import Foundation
import Testing
import WherryModel

@testable import WherryKube

/// The pure rules behind applying what Git says: write-only fields sent as the server stores them, the drift fast
/// path's ownership check, and the partial object that hands ignored fields over. `managedFields` as a real API
/// server 1.36 writes them.
@Suite("Rewritten fields, owned fields held, and handover bodies")
struct FieldRulesTests {
    static func object(_ json: String) -> KubeObject {
        KubeObject(body: (try! JSONValue.parse(json)).objectValue!)
    }

    @Test("stringData is merged into data, base64, winning over data; other kinds are left alone")
    func stringData() {
        let secret = Self.object(
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"eA==","b":"eQ=="},"stringData":{"b":"new","c":"ü"}}"#
        )
        let normalized = ServerRewrites.normalized(secret)
        #expect(normalized.body["stringData"] == nil)
        #expect(
            normalized.body["data"]
                == ["a": "eA==", "b": .string(Data("new".utf8).base64EncodedString()), "c": "w7w="])
        let configMap = Self.object(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"stringData":{"a":"b"}}"#)
        #expect(ServerRewrites.normalized(configMap) == configMap)
    }

    @Test("a stringData value that is not a string is left for the server to refuse")
    func stringDataNotAString() {
        let secret = Self.object(
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"a":"b","port":8080}}"#)
        #expect(ServerRewrites.normalized(secret) == secret)
    }

    @Test("the deprecated serviceAccount becomes serviceAccountName, only when that is not set")
    func serviceAccount() {
        let cronJob = Self.object(
            #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"serviceAccount":"a"}}}}}}"#
        )
        let spec = ServerRewrites.normalized(cronJob).body["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]
        #expect(spec == ["serviceAccountName": "a"])
        let both = Self.object(
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"serviceAccount":"a","serviceAccountName":"b"}}"#
        )
        #expect(ServerRewrites.normalized(both) == both)
    }

    /// Wherry's entry for a Service, and the Service after `kubectl patch` added a selector key (real server).
    static let serviceFields =
        #"{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:selector":{}}}"#
    static let liveService = try! JSONValue.parse(
        #"{"metadata":{"name":"web","namespace":"shop"},"spec":{"selector":{"app":"web","extra":"x"},"ports":[{"port":80,"protocol":"TCP","targetPort":80}]}}"#
    )
    static let desiredService = try! JSONValue.parse(
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}"#
    )

    @Test("a live object holds Git's fields where Wherry owns them, defaults and list keys included")
    func holds() throws {
        let owned = try JSONValue.parse(Self.serviceFields)
        var live = Self.liveService
        live["spec"]?["selector"] = ["app": "web"]
        #expect(OwnedFields.holds(live, Self.desiredService, fields: owned))
        var changed = Self.desiredService
        changed["spec"]?["ports"] = [["port": 81]]
        #expect(!OwnedFields.holds(live, changed, fields: owned))
    }

    @Test("a selector another manager took is not held, although it still holds Git's keys")
    func atomicMapTaken() throws {
        let afterEdit = try JSONValue.parse(
            #"{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}"#)
        var listed = Self.desiredService
        listed["apiVersion"] = nil
        listed["kind"] = nil
        #expect(Self.liveService.contains(listed))
        #expect(!OwnedFields.holds(Self.liveService, Self.desiredService, fields: afterEdit))
    }

    @Test("the handover body holds the owned ignored fields with their live values and list keys")
    func handoverBody() throws {
        let live = try JSONValue.parse(
            #"{"metadata":{"annotations":{"mine":"1","theirs":"2"}},"spec":{"replicas":5,"template":{"spec":{"containers":[{"name":"a","image":"x:1"},{"name":"b","image":"y:1"}]}}}}"#
        )
        let owned = try JSONValue.parse(
            #"{"f:metadata":{"f:annotations":{"f:mine":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}},"k:{\"name\":\"b\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        )
        let body = ResourceManager.handoverFields(
            ["/spec/replicas", "/spec/template/spec/containers/1/image", "/metadata/annotations", "/spec/paused"],
            live: live, owned: owned)
        #expect(
            body.map(JSONValue.object)
                == [
                    "spec": ["replicas": 5, "template": ["spec": ["containers": [["name": "b", "image": "y:1"]]]]],
                    "metadata": ["annotations": ["mine": "1"]],
                ])
        #expect(ResourceManager.handoverFields(["/spec/paused"], live: live, owned: owned) == nil)
    }
}
