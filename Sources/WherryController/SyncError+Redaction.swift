import Foundation
import WherryExec
public import WherryModel

extension RenderedService {
    /// The values decrypted from SOPS, as text anything downstream might quote: each decrypted string, and for a
    /// Secret's `data` and `stringData` the base64 and decoded forms too (the server stores `stringData` in
    /// `data`). Errors about this service are cleaned of them (see ``SyncError/redacting(_:)``).
    public var plaintextValues: [String] {
        var values: Set<String> = []
        for object in objects {
            guard let pointers = encryptedValues[object.ref] else { continue }
            for pointer in pointers {
                guard let text = Self.value(at: pointer, in: .object(object.body))?.stringValue else { continue }
                values.insert(text)
                if object.kind == "Secret", object.apiVersion == "v1" {
                    values.insert(Data(text.utf8).base64EncodedString())
                    if let decoded = Data(base64Encoded: text), let plain = String(data: decoded, encoding: .utf8) {
                        values.insert(plain)
                    }
                }
            }
        }
        return Array(values)
    }

    /// The value a JSON pointer names, if any.
    private static func value(at pointer: String, in root: JSONValue) -> JSONValue? {
        var value: JSONValue? = root
        for token in JSONValue.pointerTokens(pointer) {
            switch value {
            case .object(let object)?: value = object[token]
            case .array(let items)?: value = Int(token).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: return nil
            }
        }
        return value
    }
}

extension SyncError {
    /// The error with every one of `secrets` replaced by `***` wherever its text may quote them: an API server's
    /// message quoting a field's value (a schema check, an admission webhook), an external applier's output.
    public func redacting(_ secrets: [String]) -> SyncError {
        guard !secrets.isEmpty else { return self }
        let redactor = Redactor(secrets: secrets)
        switch self {
        case .apply(let service, let commit, var error):
            error.failures = error.failures.map { failure in
                var failure = failure
                failure.message = redactor.redact(failure.message)
                return failure
            }
            error.clusterProblem = error.clusterProblem.map(redactor.redact)
            if var cluster = error.clusterError {
                cluster.message = redactor.redact(cluster.message)
                cluster.causes = cluster.causes.map { cause in
                    var cause = cause
                    cause.message = redactor.redact(cause.message)
                    return cause
                }
                error.clusterError = cluster
            }
            return .apply(service: service, commit: commit, error)
        case .applyer(let service, let commit, var error):
            error.message = redactor.redact(error.message)
            return .applyer(service: service, commit: commit, error)
        case .refused(let service, let commit, let reason):
            return .refused(service: service, commit: commit, reason: redactor.redact(reason))
        case .render, .inventory:
            return self
        }
    }
}
