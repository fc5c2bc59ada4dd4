import Foundation
import Testing
public import WherryKube
public import WherryModel

/// One object of each kind FakeAPIServer serves, in two versions that differ in a field the server accepts changes
/// of, for checking that a change in Git is never taken for no change.
struct KindCase {
    var name: String
    var first: KubeObject
    var second: KubeObject
    /// Where the change shows on the live object, and what it must be after the second version is applied.
    var path: [String]
    var expected: JSONValue
    /// The object's API path, for cleaning up cluster-scoped objects.
    var objectPath: String
    var clusterScoped = false
}

extension ApplyScenarios {
    /// Every kind FakeAPIServer serves (Namespaces and CRDs have their own scenarios): applying a changed version is
    /// `configured`, the live object shows the change, a diff of the first version says `configured`, and applying the
    /// same version again writes nothing.
    public func aChangeInGitIsAppliedForEveryKind() async throws {
        let cases = kindCases()
        let clusterPaths = cases.filter(\.clusterScoped).map(\.objectPath)
        do {
            try await appliesEveryKindChange(cases)
        } catch {
            for path in clusterPaths { try? await api.delete(path, options: DeleteOptions()) }
            throw error
        }
        for path in clusterPaths { try await api.delete(path, options: DeleteOptions()) }
    }

    private func appliesEveryKindChange(_ cases: [KindCase]) async throws {
        _ = try await manager.apply([namespaceObject], options: options())
        await waitForDefaultServiceAccount()
        let created = try await manager.apply(cases.map(\.first), options: options())
        #expect(created.entries.allSatisfy { $0.action == .created }, "\(created.entries)")

        let diffs = try await manager.diff(cases.map(\.second), options: options())
        for diff in diffs { #expect(diff.action == .configured, "diff of \(diff.ref)") }
        let changed = try await manager.apply(cases.map(\.second), options: options())
        for entry in changed.entries { #expect(entry.action == .configured, "apply of \(entry.ref)") }
        for kind in cases {
            let live = try await api.get(kind.objectPath)
            #expect(Self.value(live, at: kind.path) == kind.expected, "\(kind.name): \(kind.path)")
        }
        counter.reset()
        let again = try await manager.apply(cases.map(\.second), options: options())
        for entry in again.entries { #expect(entry.action == .unchanged, "again: \(entry.ref)") }
        #expect(counter.counts.writes == 0)
    }

    /// A real server creates a Namespace's `default` ServiceAccount shortly after the Namespace, and refuses Pods
    /// until then; the fake has none, so this gives up after a few seconds without failing.
    private func waitForDefaultServiceAccount() async {
        for _ in 0..<50 {
            if (try? await api.get("/api/v1/namespaces/\(namespace)/serviceaccounts/default")) != nil { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    static func value(_ object: JSONValue, at path: [String]) -> JSONValue? {
        var value: JSONValue? = object
        for key in path {
            if let index = Int(key), let items = value?.arrayValue {
                value = items.indices.contains(index) ? items[index] : nil
            } else {
                value = value?[key]
            }
        }
        return value
    }

    func kindCases() -> [KindCase] {
        let ns = "/api/v1/namespaces/\(namespace)"
        let unique = namespace
        let template: (String) -> String = { account in
            #"{"metadata":{"labels":{"app":"web"}},"spec":{"serviceAccount":"\#(account)","containers":[{"name":"web","image":"registry.k8s.io/pause:3.9"}]}}"#
        }
        let account = ["spec", "template", "spec", "serviceAccountName"]
        func make(
            _ name: String, _ path: String, _ check: [String], _ expected: JSONValue, cluster: Bool = false,
            _ json: (String) -> String
        ) -> KindCase {
            KindCase(
                name: name, first: parse(json("1")), second: parse(json("2")), path: check, expected: expected,
                objectPath: path, clusterScoped: cluster)
        }
        let labels = ["metadata", "labels", "version"]
        return [
            make("ConfigMap", "\(ns)/configmaps/cm", ["data", "k"], "v2") { v in
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"k":"v\#(v)"}}"#
            },
            make("Secret with data", "\(ns)/secrets/data", ["data", "k"], Self.base64("v2")) { v in
                let value = Data("v\(v)".utf8).base64EncodedString()
                return #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"data"},"data":{"k":"\#(value)"}}"#
            },
            make("Secret with stringData", "\(ns)/secrets/string", ["data", "k"], Self.base64("v2")) { v in
                #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"string"},"stringData":{"k":"v\#(v)"}}"#
            },
            make("Service", "\(ns)/services/svc", ["spec", "selector"], ["app": "v2"]) { v in
                #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"selector":{"app":"v\#(v)"},"ports":[{"port":80}]}}"#
            },
            make("ServiceAccount", "\(ns)/serviceaccounts/sa", ["automountServiceAccountToken"], true) { v in
                #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"},"automountServiceAccountToken":\#(v == "2")}"#
            },
            make("Pod", "\(ns)/pods/pod", labels, "v2") { v in
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod","labels":{"version":"v\#(v)"}},"spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.9"}]}}"#
            },
            make("PersistentVolumeClaim", "\(ns)/persistentvolumeclaims/pvc", labels, "v2") { v in
                #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"pvc","labels":{"version":"v\#(v)"}},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#
            },
            make("Event", "\(ns)/events/ev", ["message"], "v2") { v in
                #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"ev"},"involvedObject":{"kind":"ConfigMap","name":"cm","namespace":"\#(unique)"},"reason":"Test","message":"v\#(v)"}"#
            },
            make("Deployment", "/apis/apps/v1/namespaces/\(namespace)/deployments/deploy", account, "sa2") { v in
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"deploy"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":\#(template("sa" + v))}}"#
            },
            make("StatefulSet", "/apis/apps/v1/namespaces/\(namespace)/statefulsets/sts", account, "sa2") { v in
                #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"sts"},"spec":{"serviceName":"svc","selector":{"matchLabels":{"app":"web"}},"template":\#(template("sa" + v))}}"#
            },
            make("DaemonSet", "/apis/apps/v1/namespaces/\(namespace)/daemonsets/ds", account, "sa2") { v in
                #"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":\#(template("sa" + v))}}"#
            },
            make("ReplicaSet", "/apis/apps/v1/namespaces/\(namespace)/replicasets/rs", account, "sa2") { v in
                #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},"template":\#(template("sa" + v))}}"#
            },
            make("Job", "/apis/batch/v1/namespaces/\(namespace)/jobs/job", labels, "v2") { v in
                #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job","labels":{"version":"v\#(v)"}},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"registry.k8s.io/pause:3.9"}]}}}}"#
            },
            make(
                "CronJob", "/apis/batch/v1/namespaces/\(namespace)/cronjobs/cron",
                ["spec", "jobTemplate", "spec", "template", "spec", "serviceAccountName"], "sa2"
            ) { v in
                #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cron"},"spec":{"schedule":"0 0 * * *","suspend":true,"jobTemplate":{"spec":{"template":{"spec":{"serviceAccount":"sa\#(v)","restartPolicy":"Never","containers":[{"name":"c","image":"registry.k8s.io/pause:3.9"}]}}}}}}"#
            },
            make(
                "Role", "/apis/rbac.authorization.k8s.io/v1/namespaces/\(namespace)/roles/role",
                ["rules", "0", "resources", "0"], "v2"
            ) { v in
                #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role"},"rules":[{"apiGroups":[""],"resources":["v\#(v)"],"verbs":["get"]}]}"#
            },
            make(
                "RoleBinding", "/apis/rbac.authorization.k8s.io/v1/namespaces/\(namespace)/rolebindings/rb",
                ["subjects", "0", "name"], "v2"
            ) { v in
                #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role"},"subjects":[{"kind":"ServiceAccount","name":"v\#(v)","namespace":"\#(unique)"}]}"#
            },
            make(
                "ClusterRole", "/apis/rbac.authorization.k8s.io/v1/clusterroles/\(unique)",
                ["rules", "0", "resources", "0"], "v2", cluster: true
            ) { v in
                #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"\#(unique)"},"rules":[{"apiGroups":[""],"resources":["v\#(v)"],"verbs":["get"]}]}"#
            },
            make(
                "ClusterRoleBinding", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/\(unique)",
                ["subjects", "0", "name"], "v2", cluster: true
            ) { v in
                #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"\#(unique)"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"\#(unique)"},"subjects":[{"kind":"ServiceAccount","name":"v\#(v)","namespace":"\#(unique)"}]}"#
            },
            make(
                "Ingress", "/apis/networking.k8s.io/v1/namespaces/\(namespace)/ingresses/ing",
                ["spec", "rules", "0", "host"], "v2.example.com"
            ) { v in
                #"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing"},"spec":{"rules":[{"host":"v\#(v).example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"svc","port":{"number":80}}}}]}}]}}"#
            },
            make(
                "NetworkPolicy", "/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies/np",
                ["spec", "podSelector"], ["matchLabels": ["app": "v2"]]
            ) { v in
                #"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{"matchLabels":{"app":"v\#(v)"}},"policyTypes":["Ingress"]}}"#
            },
            make(
                "IngressClass", "/apis/networking.k8s.io/v1/ingressclasses/\(unique)", labels, "v2", cluster: true
            ) { v in
                #"{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"\#(unique)","labels":{"version":"v\#(v)"}},"spec":{"controller":"example.com/ingress"}}"#
            },
            make(
                "PodDisruptionBudget", "/apis/policy/v1/namespaces/\(namespace)/poddisruptionbudgets/pdb",
                ["spec", "minAvailable"], 2
            ) { v in
                #"{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb"},"spec":{"minAvailable":\#(v),"selector":{"matchLabels":{"app":"web"}}}}"#
            },
            make(
                "Lease", "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/lease",
                ["spec", "holderIdentity"], "v2"
            ) { v in
                #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"lease"},"spec":{"holderIdentity":"v\#(v)"}}"#
            },
            make(
                "StorageClass", "/apis/storage.k8s.io/v1/storageclasses/\(unique)", labels, "v2", cluster: true
            ) { v in
                #"{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"\#(unique)","labels":{"version":"v\#(v)"}},"provisioner":"example.com/none"}"#
            },
        ]
    }
}
