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
    let logger: Logger

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

    /// Whether a live object already holds everything the dry run would store. `apiVersion` and `kind` are left
    /// out: items of a LIST do not carry them, and the path already fixed them.
    static func sameState(_ live: JSONValue, _ dryRun: JSONValue) -> Bool {
        func stripped(_ value: JSONValue) -> JSONValue {
            guard case .object(var body) = comparable(value) else { return value }
            body["apiVersion"] = nil
            body["kind"] = nil
            return .object(body)
        }
        return stripped(live) == stripped(dryRun)
    }

    /// Splits per-object outcomes into successes and failures, keeping order.
    static func partition<Value>(_ outcomes: [Result<Value, ObjectFailure>]) -> ([Value], [ObjectFailure]) {
        var values: [Value] = []
        var failures: [ObjectFailure] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let value): values.append(value)
            case .failure(let failure): failures.append(failure)
            }
        }
        return (values, failures)
    }

    /// The object with its namespace settled for its kind (defaulted when namespaced, removed when not), and
    /// where it lives in the API.
    func place(
        _ object: KubeObject, defaultNamespace: String
    ) async throws(KubeAPIError)
        -> (KubeObject, ResourceMapping)
    {
        var object = object
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

    public init(ref: ObjectRef, message: String) {
        self.ref = ref
        self.message = message
    }

    public var description: String { "\(ref): \(message)" }
}

/// Applying a set of objects failed. What was applied before the failure is in `applied`.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    /// The step that failed.
    public enum Step: String, Sendable {
        /// Mapping kinds to resources, or validating with a dry run: nothing was written.
        case validation
        /// Writing objects.
        case apply
        /// Waiting for CustomResourceDefinitions and Namespaces to become ready.
        case wait
    }

    public var step: Step
    public var failures: [ObjectFailure]
    /// Objects written before the failure.
    public var applied: ChangeSet

    public init(step: Step, failures: [ObjectFailure], applied: ChangeSet = ChangeSet()) {
        self.step = step
        self.failures = failures
        self.applied = applied
    }

    /// Whether a later attempt may succeed without a change in Git.
    public var isTransient: Bool { step == .wait }

    public var description: String {
        let header =
            step == .validation
            ? "\(failures.count) object\(failures.count == 1 ? "" : "s") failed validation; nothing was applied"
            : "\(step.rawValue) failed for \(failures.count) object\(failures.count == 1 ? "" : "s")"
        return ([header] + failures.map { "  " + $0.description.replacing("\n", with: "\n  ") }).joined(separator: "\n")
    }
}
