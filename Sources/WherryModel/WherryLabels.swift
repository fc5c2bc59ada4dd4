/// Label and annotation keys Wherry puts on, or reads from, the objects it manages.
public enum WherryLabels {
    /// `app.kubernetes.io/managed-by`, set to ``managedByValue`` on every applied object.
    public static let managedBy = "app.kubernetes.io/managed-by"
    /// The value of ``managedBy`` on Wherry's objects.
    public static let managedByValue = "wherry"
    /// `wherry.dev/service`: the name of the service whose inventory holds the object.
    public static let service = "wherry.dev/service"
    /// `wherry.dev/prune: disabled` protects an object from pruning.
    public static let prune = "wherry.dev/prune"
    /// `wherry.dev/ssa: ignore|if-not-present` opts an object out of forced server-side apply.
    public static let ssa = "wherry.dev/ssa"

    /// The selector of every object Wherry manages: `app.kubernetes.io/managed-by=wherry`.
    public static let managedBySelector = "\(managedBy)=\(managedByValue)"

    /// The selector of one service's objects: `wherry.dev/service=<name>`.
    public static func serviceSelector(_ name: String) -> String { "\(service)=\(name)" }

    /// The ownership labels for a service, in the order they are written.
    public static func ownership(service: String) -> [(String, String)] {
        [(managedBy, managedByValue), (self.service, service)]
    }
}
