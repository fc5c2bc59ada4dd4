import WherryModel

/// Field-path access and the merge rule of server-side apply, for ``FakeAPIServer``.
extension JSONObject {
    /// The value at a path of map keys, or `nil` when some step is missing or not a map.
    func value(at path: FieldSet.Path) -> JSONValue? {
        guard let first = path.first else { return .object(self) }
        guard let child = self[first] else { return nil }
        if path.count == 1 { return child }
        return child.objectValue?.value(at: Array(path.dropFirst()))
    }

    /// Sets the value at a path, creating maps on the way (and replacing non-maps in the way).
    mutating func setValue(_ value: JSONValue, at path: FieldSet.Path) {
        guard let first = path.first else { return }
        if path.count == 1 {
            self[first] = value
            return
        }
        var child = self[first]?.objectValue ?? JSONObject()
        child.setValue(value, at: Array(path.dropFirst()))
        self[first] = .object(child)
    }

    /// Removes the value at a path; maps left empty by the removal go too, as in server-side apply.
    mutating func removeValue(at path: FieldSet.Path) {
        guard let first = path.first else { return }
        if path.count == 1 {
            self[first] = nil
            return
        }
        guard var child = self[first]?.objectValue else { return }
        child.removeValue(at: Array(path.dropFirst()))
        self[first] = child.isEmpty ? nil : .object(child)
    }

    /// Merges applied configuration into this object: maps merge recursively, except at the `atomic` paths (below
    /// `prefix`, where this object is), and anything else is replaced.
    func merging(_ applied: JSONObject, atomic: Set<FieldSet.Path> = [], prefix: FieldSet.Path = []) -> JSONObject {
        var result = self
        for (key, value) in applied.members {
            if case .object(let appliedChild) = value, case .object(let liveChild)? = result[key],
                !atomic.contains(prefix + [key])
            {
                result[key] = .object(liveChild.merging(appliedChild, atomic: atomic, prefix: prefix + [key]))
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// The object without the given top-level members.
    func removing(_ keys: Set<String>) -> JSONObject {
        JSONObject(members.filter { !keys.contains($0.key) })
    }
}

/// How applied values compare with live ones.
extension JSONValue {
    /// Whether applying `self` leaves `live` as it is: equal values, or an empty map over any map.
    func isSatisfied(by live: JSONValue?) -> Bool {
        if case .object(let object) = self, object.isEmpty, live?.objectValue != nil { return true }
        return live == self
    }
}
