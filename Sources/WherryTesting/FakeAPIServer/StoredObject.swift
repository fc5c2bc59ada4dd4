import WherryModel

/// One object in ``FakeAPIServer``'s store: its body, who manages which fields, and when it goes if deleting.
struct StoredObject: Sendable {
    /// Where an object is stored: group and resource (versions share storage), namespace and name.
    struct Key: Sendable, Hashable, Comparable {
        var group: String
        var resource: String
        /// Empty for cluster-scoped objects.
        var namespace: String
        var name: String

        /// Lists sort by namespace, then name.
        static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.namespace, lhs.name, lhs.group, lhs.resource) < (rhs.namespace, rhs.name, rhs.group, rhs.resource)
        }

        /// The namespace object this key lives in, if namespaced.
        var namespaceKey: Key? {
            namespace.isEmpty ? nil : Key(group: "", resource: "namespaces", namespace: "", name: namespace)
        }
    }

    /// One `metadata.managedFields` entry: a manager, how it wrote, and the fields it owns.
    struct Manager: Sendable, Hashable {
        var manager: String
        /// `Apply` or `Update`.
        var operation: String
        var apiVersion: String
        var time: String
        var fields: FieldSet
        /// `status` for a controller's writes through the status subresource; `nil` for the main resource.
        var subresource: String? = nil

        /// The entry as the API server shows it.
        var json: JSONValue {
            var entry: JSONObject = [
                "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
            ]
            if let subresource { entry["subresource"] = .string(subresource) }
            return .object(entry)
        }

        /// Whether two entries differ at most in their time.
        func sameIgnoringTime(_ other: Manager) -> Bool {
            var other = other
            other.time = time
            return self == other
        }
    }

    /// The object without `metadata.managedFields`.
    var body: JSONObject
    /// Field managers in the order they first wrote.
    var managers: [Manager] = []
    /// When a deleted object that lingers (see ``FakeAPIServer/deletionDelay``) is finally removed.
    var removeAt: ContinuousClock.Instant?

    /// The object as clients see it: `apiVersion` for the requested version and `managedFields` filled in.
    func rendered(apiVersion: String? = nil) -> JSONValue {
        var object = body
        if let apiVersion { object["apiVersion"] = .string(apiVersion) }
        if !managers.isEmpty {
            var metadata = object["metadata"]?.objectValue ?? JSONObject()
            metadata["managedFields"] = .array(managers.map(\.json))
            object["metadata"] = .object(metadata)
        }
        return .object(object)
    }

    /// `metadata.labels` as strings.
    var labels: [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in body.value(at: ["metadata", "labels"])?.objectValue?.members ?? [] {
            labels[key] = value.stringValue
        }
        return labels
    }

    /// Whether `metadata.deletionTimestamp` is set.
    var isDeleting: Bool { body.value(at: ["metadata", "deletionTimestamp"]) != nil }

    /// Whether two states hold the same object and ownership, ignoring `managedFields` times.
    func sameContent(as other: StoredObject) -> Bool {
        body == other.body && managers.count == other.managers.count
            && zip(managers, other.managers).allSatisfy { $0.sameIgnoringTime($1) }
    }
}
