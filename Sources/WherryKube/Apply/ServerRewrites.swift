import Foundation
public import WherryModel

/// Fields the API server takes on write but stores elsewhere, turned into the fields it stores before Wherry applies
/// or compares an object.
///
/// Server-side apply records the fields of the applied configuration, but these never come back: a Secret's
/// `stringData` is merged into `data`, and a pod spec's deprecated `serviceAccount` is read only when
/// `serviceAccountName` is empty. Wherry compares the fields it owns, so a change of such a field in Git would look
/// like no change at all, and the cluster would keep the old value while every status says all is well. Sent as the
/// stored fields instead, a change is a change (Flux's ssa package converts `stringData` the same way).
public enum ServerRewrites {
    /// The object with `stringData` merged into `data` (Secrets) and `serviceAccount` given as
    /// `serviceAccountName` (pod specs of the built-in workload kinds); other objects unchanged.
    public static func normalized(_ object: KubeObject) -> KubeObject {
        var body = object.body
        let gvk = object.groupVersionKind
        if gvk.group.isEmpty, gvk.version == "v1", gvk.kind == "Secret" {
            body = mergingStringData(body)
        }
        if let path = podSpecPaths[gvk.group + "/" + gvk.kind], gvk.version == "v1" {
            body = renamingServiceAccount(body, at: path[...])
        }
        return body == object.body ? object : KubeObject(body: body, source: object.source)
    }

    /// Where the pod spec is in each built-in kind that holds one.
    static let podSpecPaths: [String: [String]] = [
        "/Pod": ["spec"],
        "/PodTemplate": ["template", "spec"],
        "/ReplicationController": ["spec", "template", "spec"],
        "apps/Deployment": ["spec", "template", "spec"],
        "apps/StatefulSet": ["spec", "template", "spec"],
        "apps/DaemonSet": ["spec", "template", "spec"],
        "apps/ReplicaSet": ["spec", "template", "spec"],
        "batch/Job": ["spec", "template", "spec"],
        "batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    ]

    /// A Secret with each `stringData` value put into `data`, base64-encoded, where the server puts it (a key in
    /// both takes the `stringData` value, as on the server). Left as it is when some value is not a string: the
    /// server then refuses the object with its own message, as it always did.
    static func mergingStringData(_ secret: JSONObject) -> JSONObject {
        guard let stringData = secret["stringData"] else { return secret }
        guard case .object(let values) = stringData,
            values.members.allSatisfy({ $0.value.stringValue != nil })
        else { return secret }
        if let existing = secret["data"], existing.objectValue == nil, existing != .null { return secret }
        var body = secret
        body["stringData"] = nil
        guard !values.isEmpty else { return body }
        var data = body["data"]?.objectValue ?? JSONObject()
        for (key, value) in values.members {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        body["data"] = .object(data)
        return body
    }

    /// The object with the pod spec at `path` naming its service account in `serviceAccountName`, when only the
    /// deprecated `serviceAccount` names it (the server ignores `serviceAccount` once `serviceAccountName` is set,
    /// and it is set from the first write on).
    static func renamingServiceAccount(_ object: JSONObject, at path: ArraySlice<String>) -> JSONObject {
        guard let key = path.first, case .object(var child)? = object[key] else { return object }
        var object = object
        if path.count > 1 {
            object[key] = .object(renamingServiceAccount(child, at: path.dropFirst()))
            return object
        }
        guard let account = child["serviceAccount"], account.stringValue?.isEmpty == false,
            child["serviceAccountName"] == nil || child["serviceAccountName"] == .null
        else { return object }
        child["serviceAccount"] = nil
        child["serviceAccountName"] = account
        object[key] = .object(child)
        return object
    }
}
