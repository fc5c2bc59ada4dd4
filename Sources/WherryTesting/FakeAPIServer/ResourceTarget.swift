/// What a resource path names: a resource at a version, maybe a namespace, maybe one object, maybe a subresource.
struct ResourceTarget: Sendable, Hashable {
    /// The resource.
    var resource: APIResource
    /// The version in the path.
    var version: String
    /// The namespace in the path; `nil` for cluster-scoped resources and lists across all namespaces.
    var namespace: String?
    /// The object's name; `nil` for the collection.
    var name: String?
    /// `status` and the like; `nil` for the main resource.
    var subresource: String?

    /// The `apiVersion` of this version.
    var apiVersion: String { resource.apiVersion(version) }

    /// The store key of the named object.
    func key(name: String) -> StoredObject.Key {
        StoredObject.Key(group: resource.group, resource: resource.name, namespace: namespace ?? "", name: name)
    }
}
