import WherryController
import WherryKube
import WherryModel
import WherryRender

/// The pieces every `--output json` report is made of, so each command's schema reads the same: objects as
/// `{kind, namespace, name, action, error?}`, counts with every key present, errors as
/// `{message, object?, file?, line?, field?}`. The README documents each command's document.
enum JSONReport {
    /// `{kind, namespace, name, action}`, plus `error` and `note` when there is one.
    static func object(_ ref: ObjectRef, action: String, error: String? = nil, note: String? = nil) -> JSONValue {
        var object: JSONObject = [
            "kind": .string(ref.kind), "namespace": .string(ref.namespace), "name": .string(ref.name),
            "action": .string(action),
        ]
        if let error { object["error"] = .string(error) }
        if let note { object["note"] = .string(note) }
        return .object(object)
    }

    /// One change set entry as a report object.
    static func object(_ entry: ChangeSetEntry) -> JSONValue {
        object(entry.ref, action: entry.action.rawValue, note: entry.note)
    }

    /// The actions a sync, diff or prune reports, plus `failed`: every one is a key of `counts`.
    static let actions = ApplyAction.allCases.map(\.rawValue) + ["failed"]

    /// Counts with every key in `keys` present (0 when none).
    static func counts(_ counts: [String: Int], keys: [String] = actions) -> JSONValue {
        .object(JSONObject(keys.map { ($0, JSONValue.int(Int64(counts[$0] ?? 0))) }))
    }

    /// Counts per action of report objects (their `action` member).
    static func tally(_ objects: [JSONValue]) -> [String: Int] {
        objects.reduce(into: [:]) { counts, object in
            if let action = object["action"]?.stringValue { counts[action, default: 0] += 1 }
        }
    }

    /// `{message, object?, file?, line?, field?}`.
    static func error(
        _ message: String, object: String? = nil, file: String? = nil, line: Int? = nil, field: String? = nil
    ) -> JSONValue {
        var error: JSONObject = ["message": .string(message)]
        if let object { error["object"] = .string(object) }
        if let file { error["file"] = .string(file) }
        if let line, line > 0 { error["line"] = .int(Int64(line)) }
        if let field { error["field"] = .string(field) }
        return .object(error)
    }

    /// A config problem, located in the config file.
    static func error(_ issue: ConfigIssue) -> JSONValue {
        error(
            issue.message + (issue.hint.map { " (\($0))" } ?? ""), file: issue.location.file,
            line: issue.location.line)
    }

    /// The errors of a service that could not be rendered: one per problem, located when the renderer knew where.
    /// `errors`, each naming `service` (the reports of sync, diff and validate list several services' errors).
    static func errors(_ errors: [JSONValue], of service: String) -> [JSONValue] {
        errors.map { error in
            guard case .object(var members) = error else { return error }
            members["service"] = .string(service)
            return .object(members)
        }
    }

    static func errors(_ failure: ServiceRenderError) -> [JSONValue] {
        if !failure.issues.isEmpty {
            return failure.issues.map {
                error($0.message, object: $0.object, file: $0.location?.file, line: $0.location?.line)
            }
        }
        return failure.problems.map { error("\(failure.step.rawValue) failed: \($0)") }
    }

    /// The errors of an apply: one per object that failed (with its source file and line), or the cluster's.
    static func errors(_ failure: ApplyError) -> [JSONValue] {
        if let problem = failure.clusterProblem { return [error(problem)] }
        return failure.failures.map {
            error($0.message, object: $0.ref.description, file: $0.source?.file, line: $0.source?.line)
        }
    }

    /// The errors of a failed sync.
    static func errors(_ failure: SyncError) -> [JSONValue] {
        switch failure {
        case .render(let error): errors(error)
        case .apply(_, _, let error): errors(error)
        default: [error(failure.description)]
        }
    }
}
