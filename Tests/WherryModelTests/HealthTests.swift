import Testing
import WherryModel
import WherryRender

/// Health per kind, from YAML fixtures of objects as a real API server reports them.
@Suite("Health checks")
struct HealthTests {
    /// A fixture and the health it must have: `healthy`, or the start of `progressing: …` / `degraded: …`.
    struct Fixture: CustomTestStringConvertible, Sendable {
        var name: String
        var expected: String
        var yaml: String
        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(
            name: "Deployment rolled out", expected: "healthy",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, generation: 2}
                spec: {replicas: 2}
                status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2}
                """),
        Fixture(
            name: "Deployment not yet observed", expected: "progressing: waiting for the controller",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, generation: 3}
                spec: {replicas: 2}
                status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
                """),
        Fixture(
            name: "Deployment rolling", expected: "progressing: 1 of 2 updated replicas available",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, generation: 2}
                spec: {replicas: 2}
                status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1}
                """),
        Fixture(
            name: "Deployment with old replicas", expected: "progressing: 1 old replicas",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, generation: 2}
                spec: {replicas: 2}
                status: {observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2}
                """),
        Fixture(
            name: "Deployment past its progress deadline",
            expected: "degraded: rollout failed: ProgressDeadlineExceeded: ReplicaSet \"web-1\" has timed out",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, generation: 2}
                spec: {replicas: 1}
                status:
                  observedGeneration: 2
                  replicas: 1
                  updatedReplicas: 1
                  unavailableReplicas: 1
                  conditions:
                  - {type: Available, status: "False", reason: MinimumReplicasUnavailable}
                  - type: Progressing
                    status: "False"
                    reason: ProgressDeadlineExceeded
                    message: ReplicaSet "web-1" has timed out progressing.
                """),
        Fixture(
            name: "StatefulSet ready", expected: "healthy",
            yaml: """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db, generation: 1}
                spec: {replicas: 3}
                status: {observedGeneration: 1, replicas: 3, readyReplicas: 3, currentRevision: db-1, updateRevision: db-1}
                """),
        Fixture(
            name: "StatefulSet updating", expected: "progressing: rolling out revision db-2",
            yaml: """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db, generation: 2}
                spec: {replicas: 3}
                status: {observedGeneration: 2, replicas: 3, readyReplicas: 3, currentRevision: db-1, updateRevision: db-2}
                """),
        Fixture(
            name: "DaemonSet partly available", expected: "progressing: 2 of 3 pods available",
            yaml: """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent, generation: 1}
                status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2}
                """),
        Fixture(
            name: "DaemonSet healthy", expected: "healthy",
            yaml: """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent, generation: 1}
                status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}
                """),
        Fixture(
            name: "Job complete", expected: "healthy",
            yaml: """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: migrate}
                status: {succeeded: 1, conditions: [{type: Complete, status: "True"}]}
                """),
        Fixture(
            name: "Job failed", expected: "degraded: job failed: BackoffLimitExceeded",
            yaml: """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: migrate}
                status:
                  failed: 7
                  conditions:
                  - {type: Failed, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}
                """),
        Fixture(
            name: "Job running", expected: "progressing: 0 of 1 completions",
            yaml: """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: migrate}
                status: {active: 1}
                """),
        Fixture(
            name: "Pod with a bad image", expected: "degraded: container app: ImagePullBackOff",
            yaml: """
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                status:
                  phase: Pending
                  containerStatuses:
                  - name: app
                    ready: false
                    state: {waiting: {reason: ImagePullBackOff, message: Back-off pulling image "nope:1"}}
                """),
        Fixture(
            name: "Pod running and ready", expected: "healthy",
            yaml: """
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
                """),
        Fixture(
            name: "PVC pending", expected: "progressing: phase Pending",
            yaml: """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: data}
                status: {phase: Pending}
                """),
        Fixture(
            name: "PVC bound", expected: "healthy",
            yaml: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nstatus: {phase: Bound}\n"),
        Fixture(
            name: "LoadBalancer without an address", expected: "progressing: waiting for a load balancer",
            yaml: """
                apiVersion: v1
                kind: Service
                metadata: {name: lb}
                spec: {type: LoadBalancer}
                status: {loadBalancer: {}}
                """),
        Fixture(
            name: "LoadBalancer with an address", expected: "healthy",
            yaml: """
                apiVersion: v1
                kind: Service
                metadata: {name: lb}
                spec: {type: LoadBalancer}
                status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}
                """),
        Fixture(
            name: "ClusterIP Service", expected: "healthy",
            yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}\n"),
        Fixture(
            name: "CRD established", expected: "healthy",
            yaml: """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: widgets.example.com}
                status: {conditions: [{type: NamesAccepted, status: "True"}, {type: Established, status: "True"}]}
                """),
        Fixture(
            name: "CRD with a name conflict", expected: "degraded: names not accepted",
            yaml: """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: widgets.example.com}
                status: {conditions: [{type: NamesAccepted, status: "False", message: "\\"widgets\\" is already in use"}]}
                """),
        Fixture(
            name: "Namespace terminating", expected: "progressing: phase 'Terminating'",
            yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\nstatus: {phase: Terminating}\n"),
        Fixture(
            name: "custom resource Ready", expected: "healthy",
            yaml: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w, generation: 4}
                status: {observedGeneration: 4, conditions: [{type: Ready, status: "True"}]}
                """),
        Fixture(
            name: "custom resource not Ready", expected: "progressing: Ready is False: Reconciling",
            yaml: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w, generation: 4}
                status: {observedGeneration: 4, conditions: [{type: Ready, status: "False", reason: Reconciling}]}
                """),
        Fixture(
            name: "custom resource stalled", expected: "degraded: stalled: bad spec",
            yaml: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w}
                status: {conditions: [{type: Stalled, status: "True", message: bad spec}]}
                """),
        Fixture(
            name: "custom resource without conditions", expected: "healthy",
            yaml: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n"),
        Fixture(
            name: "anything being deleted", expected: "progressing: being deleted",
            yaml: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, deletionTimestamp: "2026-11-26T00:00:00Z"}
                """),
    ]

    @Test("health per kind", arguments: fixtures)
    func health(_ fixture: Fixture) throws {
        let object = try YAMLReader.single(fixture.yaml, file: fixture.name + ".yaml").json
        let health = Health.of(object)
        #expect(health.description.hasPrefix(fixture.expected), "\(fixture.name): \(health)")
    }
}
