import Foundation
import WherryModel

/// What the real API server does to objects of some kinds on every write, beyond defaulting: fields it takes but
/// stores elsewhere, and maps it treats as one value.
extension FakeClusterState {
    /// The object as the server stores it: a Secret's `stringData` merged into `data` (base64, `stringData`
    /// winning) and dropped; a pod spec's deprecated `serviceAccount` read only when `serviceAccountName` is empty,
    /// and then shown equal to it. Field ownership is computed before this, so a manager that applied `stringData`
    /// owns `stringData` fields that are never stored, as on a real server.
    static func converted(_ object: JSONObject, resource: APIResource) -> JSONObject {
        var object = object
        if resource.group.isEmpty, resource.name == "secrets", let stringData = object["stringData"] {
            object["stringData"] = nil
            if case .object(let values) = stringData, !values.isEmpty {
                var data = object["data"]?.objectValue ?? JSONObject()
                for (key, value) in values.members {
                    data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
                }
                object["data"] = .object(data)
            }
        }
        if let path = podSpecPath(of: resource), case .object(var spec)? = object.value(at: path) {
            let name = spec["serviceAccountName"]?.stringValue ?? ""
            let account = name.isEmpty ? spec["serviceAccount"]?.stringValue ?? "" : name
            spec["serviceAccountName"] = account.isEmpty ? nil : .string(account)
            spec["serviceAccount"] = account.isEmpty ? nil : .string(account)
            object.setValue(.object(spec), at: path)
        }
        return object
    }

    /// Where the pod spec is in objects of a resource, if they hold one.
    static func podSpecPath(of resource: APIResource) -> FieldSet.Path? {
        switch (resource.group, resource.name) {
        case ("", "pods"): ["spec"]
        case ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"), ("apps", "replicasets"),
            ("batch", "jobs"):
            ["spec", "template", "spec"]
        case ("batch", "cronjobs"): ["spec", "jobTemplate", "spec", "template", "spec"]
        default: nil
        }
    }

    /// Maps that server-side apply replaces whole (`+mapType=atomic`, or a `LabelSelector`, an atomic struct): one
    /// field for ownership, so a key added by another manager takes the whole map from its owner.
    static func atomicPaths(of resource: APIResource) -> Set<FieldSet.Path> {
        var paths: Set<FieldSet.Path> = []
        switch (resource.group, resource.name) {
        case ("", "services"), ("apps", _), ("batch", "jobs"), ("policy", "poddisruptionbudgets"):
            paths.insert(["spec", "selector"])
        case ("batch", "cronjobs"):
            paths.insert(["spec", "jobTemplate", "spec", "selector"])
        case ("networking.k8s.io", "networkpolicies"):
            paths.insert(["spec", "podSelector"])
        default:
            break
        }
        if let pod = podSpecPath(of: resource) { paths.insert(pod + ["nodeSelector"]) }
        return paths
    }
}
