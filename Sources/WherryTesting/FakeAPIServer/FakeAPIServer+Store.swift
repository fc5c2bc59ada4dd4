public import WherryModel

/// Direct access to the store, for tests: read what clients wrote, and change objects behind their back.
extension FakeAPIServer {
    /// The stored object (with `metadata.managedFields`), or `nil`. `group` is empty for the core group; `namespace`
    /// is `nil` for cluster-scoped objects.
    public func object(group: String = "", resource: String, namespace: String? = nil, name: String) -> JSONValue? {
        state.withLock { state in
            state.tick(now: .now)
            return state.objects[Self.key(group, resource, namespace, name)]?.rendered()
        }
    }

    /// The stored objects of a resource, optionally in one namespace, sorted by namespace and name.
    public func objects(group: String = "", resource: String, namespace: String? = nil) -> [JSONValue] {
        state.withLock { state in
            state.tick(now: .now)
            return state.objects.filter { key, _ in
                key.group == group && key.resource == resource && (namespace.map { key.namespace == $0 } ?? true)
            }
            .sorted { $0.key < $1.key }.map { $0.value.rendered() }
        }
    }

    /// Stores a whole object as another client would with an update (`kubectl edit`): `manager` takes ownership
    /// of every field it changes, so a later apply of those fields without `force` conflicts. Creates the object
    /// when missing (its namespace must exist); a namespaced object without a namespace goes to `default`.
    /// Throws ``FixtureError`` when no served resource has the object's kind or it is invalid.
    @discardableResult
    public func put(_ object: JSONValue, manager: String = "kubectl") throws -> JSONValue {
        let result = state.withLock { state in
            Result { () throws(APIStatusError) in try state.update(object, manager: manager, now: .now) }
        }
        switch result {
        case .success(let stored): return stored
        case .failure(let error): throw FixtureError("put failed: \(error.message) (HTTP \(error.code))")
        }
    }

    /// Replaces an object's `status`, as its controller would; `false` when there is no such object.
    @discardableResult
    public func setStatus(
        _ status: JSONValue, group: String = "", resource: String, namespace: String? = nil, name: String
    ) -> Bool {
        state.withLock { $0.setStatus(status, key: Self.key(group, resource, namespace, name), now: .now) }
    }

    /// Removes an object at once, as if someone else deleted it; `false` when there is no such object.
    @discardableResult
    public func remove(group: String = "", resource: String, namespace: String? = nil, name: String) -> Bool {
        state.withLock { state in
            let key = Self.key(group, resource, namespace, name)
            guard state.objects[key] != nil else { return false }
            state.removeNow(key)
            state.revision += 1
            return true
        }
    }

    /// The store key; a `nil` namespace is the cluster scope.
    private static func key(
        _ group: String, _ resource: String, _ namespace: String?, _ name: String
    )
        -> StoredObject.Key
    {
        StoredObject.Key(group: group, resource: resource, namespace: namespace ?? "", name: name)
    }
}
