public import Logging
public import WherryModel

/// Applies, compares and deletes sets of objects with server-side apply, as one unit.
///
/// Split by verb: `+Apply` (staged, validated, bounded concurrency), `+Wait`, `+Delete`, `+Diff`.
public struct ResourceManager: Sendable {
    public let api: any KubeAPI
    public let mapper: RESTMapper
    /// The field manager Wherry applies as.
    public let fieldManager: String
    public let logger: Logger

    public init(api: any KubeAPI, mapper: RESTMapper? = nil, fieldManager: String = "wherry", logger: Logger) {
        self.api = api
        self.mapper = mapper ?? RESTMapper(api: api)
        self.fieldManager = fieldManager
        self.logger = logger
    }

    /// Fields the API server owns; ignored when deciding whether an object drifted and when diffing.
    static let serverMetadata = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"]

    /// The object without server-owned fields, for comparison.
    static func comparable(_ object: JSONValue) -> JSONValue {
        guard case .object(var body) = object else { return object }
        body["status"] = nil
        if case .object(var metadata)? = body["metadata"] {
            for key in serverMetadata { metadata[key] = nil }
            body["metadata"] = .object(metadata)
        }
        return .object(body)
    }

    /// Splits per-object outcomes into successes and failures, keeping order.
    static func partition<Value>(_ outcomes: [Result<Value, PlanFailure>]) -> ([Value], [PlanFailure]) {
        var values: [Value] = []
        var failures: [PlanFailure] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let value): values.append(value)
            case .failure(let failure): failures.append(failure)
            }
        }
        return (values, failures)
    }

    /// The object with its namespace settled for its kind (defaulted when namespaced, removed when not) and its
    /// write-only fields in the form the server stores (``ServerRewrites``), and where it lives in the API.
    func place(
        _ object: KubeObject, defaultNamespace: String
    ) async throws(KubeAPIError)
        -> (KubeObject, ResourceMapping)
    {
        var object = ServerRewrites.normalized(object)
        let mapping = try await mapper.mapping(for: object)
        if mapping.namespaced, object.namespace.isEmpty { object.namespace = defaultNamespace }
        if !mapping.namespaced { object.namespace = "" }
        return (object, mapping)
    }
}

/// One object that could not be applied, with the API server's reason.
public struct ObjectFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var ref: ObjectRef
    public var message: String
    /// The API server's HTTP code (0 when no answer came back, or the failure is Wherry's own, such as a timeout).
    public var code: Int
    /// The API server's reason (`Invalid`, `Forbidden`, ...), or Wherry's (`NotReady`, `ConnectionFailed`).
    public var reason: String
    /// Whether a later attempt may succeed without a change in Git.
    public var isTransient: Bool
    /// The work was cancelled; not a failure of the object.
    public var isCancelled: Bool
    /// The file and line the object was read from, when known.
    public var source: SourceLocation?

    /// A failure Wherry found itself (no API error behind it).
    public init(ref: ObjectRef, message: String, reason: String = "Failed", isTransient: Bool = true) {
        self.ref = ref
        self.message = message
        code = 0
        self.reason = reason
        self.isTransient = isTransient
        isCancelled = false
    }

    /// A failure the API server (or the way to it) reported.
    public init(ref: ObjectRef, error: KubeAPIError) {
        self.ref = ref
        var copy = error
        copy.object = nil
        message = copy.description
        code = error.code
        reason = error.reason
        isTransient = error.isTransient
        isCancelled = error.isCancelled
    }

    /// `k8s/web.yaml:3:1: Deployment/web/api: message`, or without the location when it is not known.
    public var description: String { (source.map { "\($0): " } ?? "") + "\(ref): \(message)" }
}

extension ApplyError {
    /// The error with each failed object's source file and line, from the objects that were applied (matched by
    /// identity; an object written without a namespace matches the namespace it was given).
    func locating(_ objects: [KubeObject]) -> ApplyError {
        var sources: [ObjectRef: SourceLocation] = [:]
        for object in objects { if let source = object.source { sources[object.ref] = source } }
        guard !sources.isEmpty else { return self }
        var located = self
        for index in located.failures.indices where located.failures[index].source == nil {
            var bare = located.failures[index].ref
            bare.namespace = ""
            located.failures[index].source = sources[located.failures[index].ref] ?? sources[bare]
        }
        return located
    }
}

/// Applying a set of objects failed. What was applied before the failure is in `applied`.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    /// The step that failed.
    public enum Step: String, Sendable {
        /// Reaching the cluster: discovery failed, or every request failed the same way.
        case cluster
        /// Mapping kinds to resources, or validating with a dry run.
        case validation
        /// Writing objects.
        case apply
        /// Waiting for CustomResourceDefinitions and Namespaces to become ready.
        case wait
        /// Deleting objects that left Git.
        case prune
        /// Waiting for the objects to become healthy (`wait: true`).
        case health
    }

    public var step: Step
    public var failures: [ObjectFailure]
    /// Objects written before the failure.
    public var applied: ChangeSet
    /// One sentence about the cluster or the credentials, when the failure concerns them rather than objects.
    public var clusterProblem: String?
    /// The underlying error of a cluster-wide failure.
    public var clusterError: KubeAPIError?

    public init(step: Step, failures: [ObjectFailure], applied: ChangeSet = ChangeSet()) {
        self.step = step
        self.failures = failures
        self.applied = applied
    }

    /// A failure of the whole cluster (unreachable, TLS, credentials refused): said once, not per object.
    public init(cluster error: KubeAPIError, server: String, applied: ChangeSet = ChangeSet()) {
        step = .cluster
        failures = []
        self.applied = applied
        clusterError = error
        clusterProblem = error.isClusterWide ? error.clusterSummary(server: server) : nil
        if error.isCancelled {
            clusterProblem = "the sync was cancelled"
        } else if clusterProblem == nil {
            var copy = error
            copy.object = nil
            clusterProblem = "API discovery at \(server) failed: \(copy.description)"
        }
    }

    /// Whether the failure concerns the cluster or the credentials, so other services would fail the same way.
    public var isClusterWide: Bool { clusterError?.isClusterWide ?? false }

    /// Whether the work was cancelled (shutdown, a newer trigger): not a failure to record or retry.
    public var isCancelled: Bool {
        (clusterError?.isCancelled ?? false) || failures.contains(where: \.isCancelled)
    }

    /// Whether a later attempt may succeed without a change in Git: the cluster, throttling, timeouts, RBAC or a
    /// missing dependency. An invalid object is permanent: retrying it only spends time.
    public var isTransient: Bool {
        if let clusterError { return clusterError.isTransient }
        return !failures.isEmpty && failures.allSatisfy(\.isTransient)
    }

    /// The objects the failure left written: created or changed before it.
    var written: [ChangeSetEntry] {
        applied.entries.filter { $0.action == .created || $0.action == .configured || $0.action == .deleted }
    }

    public var description: String {
        if let clusterProblem {
            let partial =
                written.isEmpty
                ? "" : " (\(written.count) object\(written.count == 1 ? " was" : "s were") written before)"
            return clusterProblem + partial
        }
        let count = "\(failures.count) object\(failures.count == 1 ? "" : "s")"
        var header: String
        switch step {
        case .validation:
            header = "\(count) failed validation; "
            if written.isEmpty {
                header += "nothing was applied"
            } else {
                let names = written.prefix(5).map(\.ref.description).joined(separator: ", ")
                header +=
                    "only the first stage was applied (\(names)\(written.count > 5 ? ", …" : "")); nothing else was written"
            }
        default:
            header = "\(step.rawValue) failed for \(count)"
        }
        return ([header] + failures.map { "  " + $0.description.replacing("\n", with: "\n  ") }).joined(separator: "\n")
    }
}
