import WherryModel

/// The validation ``FakeAPIServer`` applies to every write: a subset of the real server's, plus a test hook.
extension FakeClusterState {
    /// The annotation whose value makes the server reject the object with that message (a hook for tests).
    static let invalidAnnotation = "fake.wherry.dev/invalid"

    /// The causes of an `Invalid` answer for this object; empty when it is valid.
    static func validationCauses(_ object: JSONObject, resource: APIResource) -> [JSONValue] {
        var causes: [JSONValue] = []
        let name = object.value(at: ["metadata", "name"])?.stringValue ?? ""
        if let problem = resource.name == "namespaces" ? dnsLabelProblem(name) : dnsSubdomainProblem(name) {
            causes.append(
                APIStatusError.cause(
                    reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \(problem)",
                    field: "metadata.name")
            )
        }
        if let message = object.value(at: ["metadata", "annotations", invalidAnnotation])?.stringValue {
            causes.append(
                APIStatusError.cause(reason: "FieldValueInvalid", message: message, field: "metadata.annotations"))
        }
        switch (resource.group, resource.name) {
        case ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"):
            causes += replicasCauses(object.value(at: ["spec", "replicas"]))
        case (APIResource.customResourceDefinitions.group, APIResource.customResourceDefinitions.name):
            causes += crdCauses(object)
        default:
            break
        }
        return causes
    }

    /// `spec.replicas` must not be negative.
    private static func replicasCauses(_ replicas: JSONValue?) -> [JSONValue] {
        switch replicas {
        case nil, .null?:
            return []
        case .int(let count)?:
            guard count < 0 else { return [] }
            return [
                APIStatusError.cause(
                    reason: "FieldValueInvalid", message: "Invalid value: \(count): must be greater than or equal to 0",
                    field: "spec.replicas")
            ]
        default:
            // A value of another type never gets here: the typed patch refuses it first (a 500, as for real).
            return []
        }
    }

    private static let subdomainRule =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

    private static let labelRule =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

    /// Why `name` is not a DNS-1123 subdomain, or `nil`.
    static func dnsSubdomainProblem(_ name: String) -> String? {
        if name.count > 253 { return "must be no more than 253 characters" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy(isDNSLabel) ? nil : subdomainRule
    }

    /// Why `name` is not a DNS-1123 label, or `nil`.
    static func dnsLabelProblem(_ name: String) -> String? {
        if name.count > 63 { return "must be no more than 63 characters" }
        return isDNSLabel(name[...]) ? nil : labelRule
    }

    /// Lower-case alphanumerics and `-`, starting and ending alphanumeric.
    private static func isDNSLabel(_ label: Substring) -> Bool {
        func isAlphanumeric(_ character: Character) -> Bool {
            character.isASCII && (character.isLowercase || character.isNumber)
        }
        guard let first = label.first, let last = label.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return label.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }
}
