/// Wherry's version: what `wherry version` prints, the image tag `wherry install` deploys, and part of every service's
/// render digest (a new Wherry may render the same files differently, so it applies every service once).
public enum WherryVersion {
    /// The version of this build.
    public static let current = "0.1.0"
}
