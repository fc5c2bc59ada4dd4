import Foundation
import WherryModel

extension InstallManifests {
    static func labels(_ options: InstallOptions) -> JSONValue {
        [
            "app.kubernetes.io/name": .string(name), "app.kubernetes.io/part-of": .string(name),
            "app.kubernetes.io/managed-by": "wherry-install", "wherry.dev/cluster": .string(options.clusterName),
        ]
    }

    static func metadata(_ objectName: String, _ options: InstallOptions, namespaced: Bool = true) -> JSONValue {
        var metadata: JSONObject = ["name": .string(objectName), "labels": labels(options)]
        if namespaced { metadata["namespace"] = .string(options.namespace) }
        return .object(metadata)
    }

    static func object(_ apiVersion: String, _ kind: String, _ metadata: JSONValue, _ rest: JSONObject) -> KubeObject {
        var body: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": metadata]
        for (key, value) in rest.members { body[key] = value }
        return KubeObject(body: body)
    }

    static func namespace(_ options: InstallOptions) -> KubeObject {
        object("v1", "Namespace", metadata(options.namespace, options, namespaced: false), [:])
    }

    static func serviceAccount(_ options: InstallOptions) -> KubeObject {
        object("v1", "ServiceAccount", metadata(name, options), [:])
    }

    /// What applying, pruning, drift checks and health checks need: read, create, server-side apply (patch) and
    /// delete of the objects Wherry manages, and watch (the health observer waits on one watch per kind and
    /// namespace instead of re-reading each object); no update, impersonate, bind or escalate. Its own namespace
    /// adds the Lease of leader election and the inventory ConfigMaps.
    static func roles(_ options: InstallOptions) -> [KubeObject] {
        var manage: [JSONValue] = [
            ["apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]]
        ]
        if options.manageRBAC {
            manage.append([
                "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"],
                "verbs": ["bind", "escalate"],
            ])
        }
        let subject: JSONValue = [
            ["kind": "ServiceAccount", "name": .string(name), "namespace": .string(options.namespace)]
        ]
        var objects: [KubeObject] = []
        if options.namespaces.isEmpty {
            objects.append(
                object(
                    "rbac.authorization.k8s.io/v1", "ClusterRole", metadata(name, options, namespaced: false),
                    ["rules": .array(manage)]))
            objects.append(
                object(
                    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", metadata(name, options, namespaced: false),
                    [
                        "roleRef": [
                            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(name),
                        ],
                        "subjects": subject,
                    ]))
        } else {
            for namespace in options.namespaces {
                var roleMetadata = metadata(name, options).objectValue!
                roleMetadata["namespace"] = .string(namespace)
                objects.append(
                    object("rbac.authorization.k8s.io/v1", "Role", .object(roleMetadata), ["rules": .array(manage)]))
                objects.append(
                    object(
                        "rbac.authorization.k8s.io/v1", "RoleBinding", .object(roleMetadata),
                        [
                            "roleRef": [
                                "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(name),
                            ],
                            "subjects": subject,
                        ]))
            }
        }
        let own: [JSONValue] = [
            ["apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]],
            ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create", "patch", "delete"]],
            // The leader labels its own Pod so the Service reaches it.
            ["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]],
        ]
        let ownName = name + "-self"
        objects.append(
            object("rbac.authorization.k8s.io/v1", "Role", metadata(ownName, options), ["rules": .array(own)]))
        objects.append(
            object(
                "rbac.authorization.k8s.io/v1", "RoleBinding", metadata(ownName, options),
                [
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(ownName)],
                    "subjects": subject,
                ]))
        return objects
    }

    static func configMap(_ yaml: String, options: InstallOptions) -> KubeObject {
        object("v1", "ConfigMap", metadata(name + "-config", options), ["data": ["gitops-config.yaml": .string(yaml)]])
    }

    static func secret(_ values: [String: [UInt8]], options: InstallOptions) -> KubeObject {
        var data = JSONObject()
        for key in values.keys.sorted() { data[key] = .string(Data(values[key]!).base64EncodedString()) }
        return object("v1", "Secret", metadata(secretName, options), ["type": "Opaque", "data": .object(data)])
    }

    static func claim(_ size: String, options: InstallOptions) -> KubeObject {
        object(
            "v1", "PersistentVolumeClaim", metadata(name + "-state", options),
            ["spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": .string(size)]]]])
    }

    /// Whether the replicas elect a leader: several, or a DaemonSet.
    static func electsLeader(_ options: InstallOptions) -> Bool {
        options.daemonSet || (options.stateVolumeSize == nil && options.replicas > 1)
    }

    static func service(_ options: InstallOptions) -> KubeObject {
        var selector: JSONObject = ["app.kubernetes.io/name": .string(name)]
        // Only the leader, when there is an election: the replica with current status, the one that acts on syncs
        // and webhooks.
        if electsLeader(options) { selector[LeaderElector.leaderLabel] = "true" }
        return object(
            "v1", "Service", metadata(name, options),
            [
                "spec": [
                    "selector": .object(selector),
                    "ports": [["name": "http", "port": .int(Int64(port)), "targetPort": "http"]],
                ]
            ])
    }

    /// The Deployment (or the seed's DaemonSet on management nodes).
    static func workload(_ options: InstallOptions) -> KubeObject {
        let probe = { (path: String) -> JSONValue in
            ["httpGet": ["path": .string(path), "port": "http"], "periodSeconds": 10, "timeoutSeconds": 3]
        }
        var arguments: [JSONValue] = [
            "run", "--config", .string(configMount + "/gitops-config.yaml"), "--listen", .string("0.0.0.0:\(port)"),
            "--state-dir", .string(stateMount), "--namespace", .string(options.namespace), "--log-format", "json",
            // Applies, prunes and leadership changes are worth a line in a cluster's logs.
            "--log-level", "info", "--shutdown-timeout", .string("\(options.shutdownTimeout)"),
        ]
        let singleReplica = !options.daemonSet && options.stateVolumeSize != nil
        if electsLeader(options) { arguments.append("--leader-elect") }
        let container: JSONValue = [
            "name": .string(name), "image": .string(options.image), "args": .array(arguments),
            "ports": [["name": "http", "containerPort": .int(Int64(port))]],
            "env": [
                ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                ["name": "POD_NAMESPACE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
                ["name": "WHERRY_CLUSTER_NAME", "value": .string(options.clusterName)],
                ["name": "HOME", "value": "/tmp"],
            ],
            "envFrom": [["secretRef": ["name": .string(secretName), "optional": true]]],
            "livenessProbe": probe("/healthz"), "readinessProbe": probe("/readyz"),
            "resources": ["requests": ["cpu": "50m", "memory": "64Mi"], "limits": ["memory": "512Mi"]],
            "securityContext": [
                "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]],
                "seccompProfile": ["type": "RuntimeDefault"],
            ],
            "volumeMounts": [
                ["name": "config", "mountPath": .string(configMount), "readOnly": true],
                ["name": "secret", "mountPath": .string(secretMount), "readOnly": true],
                ["name": "state", "mountPath": .string(stateMount)], ["name": "tmp", "mountPath": "/tmp"],
            ],
        ]
        let state: JSONValue =
            singleReplica
            ? ["name": "state", "persistentVolumeClaim": ["claimName": .string(name + "-state")]]
            : ["name": "state", "emptyDir": [:]]
        var pod: JSONObject = [
            "serviceAccountName": .string(name), "securityContext": ["fsGroup": 65532],
            // The drain fits in the grace period: the kubelet kills the container only after Wherry has stopped.
            "terminationGracePeriodSeconds": .int(Int64(options.shutdownTimeout + InstallOptions.shutdownMargin)),
            "containers": [container],
            "volumes": [
                ["name": "config", "configMap": ["name": .string(name + "-config")]],
                ["name": "secret", "secret": ["secretName": .string(secretName), "optional": true]], state,
                ["name": "tmp", "emptyDir": [:]],
            ],
        ]
        let selector: JSONValue = ["matchLabels": ["app.kubernetes.io/name": .string(name)]]
        let template: JSONValue
        if options.daemonSet {
            // The seed's placement: management nodes only.
            pod["affinity"] = [
                "nodeAffinity": [
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        "nodeSelectorTerms": [
                            [
                                "matchExpressions": [
                                    ["key": "node-role.nokube.io/management", "operator": "In", "values": ["true"]]
                                ]
                            ]
                        ]
                    ]
                ]
            ]
            template = ["metadata": ["labels": labels(options)], "spec": .object(pod)]
            return object(
                "apps/v1", "DaemonSet", metadata(name, options), ["spec": ["selector": selector, "template": template]])
        }
        template = ["metadata": ["labels": labels(options)], "spec": .object(pod)]
        var spec: JSONObject = [
            "replicas": .int(Int64(singleReplica ? 1 : options.replicas)), "selector": selector, "template": template,
        ]
        // One writer for a ReadWriteOnce claim: the old Pod goes before the new one comes.
        if singleReplica { spec["strategy"] = ["type": "Recreate"] }
        return object("apps/v1", "Deployment", metadata(name, options), ["spec": .object(spec)])
    }
}
