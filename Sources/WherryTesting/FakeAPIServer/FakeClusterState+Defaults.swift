import WherryModel

/// Defaulting, as the real API server defaults what a client leaves out, for the kinds Wherry's tests apply most:
/// Services (type, session affinity, port protocol and target port, an allocated cluster IP) and Deployments
/// (replicas, strategy, history limit, progress deadline, and the pod template's and containers' defaults).
/// Defaulted fields belong to no field manager, so a client that compares whole objects with what it applied sees
/// differences that are not changes.
extension FakeClusterState {
    /// The object with the server's defaults filled in where it has no value; `clusterIP` is allocated from
    /// `revision` when the object is new.
    static func defaulted(_ object: JSONObject, resource: APIResource, revision: Int) -> JSONObject {
        var object = object
        switch (resource.group, resource.name) {
        case ("", "services"):
            setDefault(&object, ["spec", "type"], "ClusterIP")
            setDefault(&object, ["spec", "sessionAffinity"], "None")
            setDefault(&object, ["spec", "internalTrafficPolicy"], "Cluster")
            if object.value(at: ["spec", "type"]) != "ExternalName" {
                let ip = JSONValue.string("10.96.\(revision / 250 % 250).\(revision % 250 + 1)")
                setDefault(&object, ["spec", "clusterIP"], ip)
                setDefault(&object, ["spec", "clusterIPs"], [object.value(at: ["spec", "clusterIP"]) ?? ip])
            }
            let ports = object.value(at: ["spec", "ports"])?.arrayValue?.map { port -> JSONValue in
                guard var port = port.objectValue else { return port }
                if port["protocol"] == nil { port["protocol"] = "TCP" }
                if port["targetPort"] == nil, let number = port["port"] { port["targetPort"] = number }
                return .object(port)
            }
            if let ports { object.setValue(.array(ports), at: ["spec", "ports"]) }
        case ("apps", "deployments"):
            setDefault(&object, ["spec", "replicas"], 1)
            setDefault(
                &object, ["spec", "strategy"],
                ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]])
            setDefault(&object, ["spec", "revisionHistoryLimit"], 10)
            setDefault(&object, ["spec", "progressDeadlineSeconds"], 600)
            let pod = ["spec", "template", "spec"]
            guard object.value(at: pod)?.objectValue != nil else { break }
            setDefault(&object, pod + ["restartPolicy"], "Always")
            setDefault(&object, pod + ["dnsPolicy"], "ClusterFirst")
            setDefault(&object, pod + ["terminationGracePeriodSeconds"], 30)
            setDefault(&object, pod + ["schedulerName"], "default-scheduler")
            let containers = object.value(at: pod + ["containers"])?.arrayValue?.map(defaultedContainer)
            if let containers { object.setValue(.array(containers), at: pod + ["containers"]) }
        default:
            break
        }
        return object
    }

    private static func defaultedContainer(_ container: JSONValue) -> JSONValue {
        guard var container = container.objectValue else { return container }
        if container["imagePullPolicy"] == nil {
            let image = container["image"]?.stringValue ?? ""
            let tag = image.split(separator: "/").last.flatMap { $0.split(separator: ":").dropFirst().first }
            container["imagePullPolicy"] = tag == nil || tag == "latest" ? "Always" : "IfNotPresent"
        }
        if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
        if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
        if let ports = container["ports"]?.arrayValue {
            container["ports"] = .array(
                ports.map { port in
                    guard var port = port.objectValue else { return port }
                    if port["protocol"] == nil { port["protocol"] = "TCP" }
                    return .object(port)
                })
        }
        return .object(container)
    }

    private static func setDefault(_ object: inout JSONObject, _ path: [String], _ value: JSONValue) {
        if object.value(at: path) == nil { object.setValue(value, at: path) }
    }
}
