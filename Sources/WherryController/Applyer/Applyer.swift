import WherryExec
public import WherryModel
import WherryRender

/// Applies a service's rendered objects to a cluster: the seed's Applyer interface (`install()` once, then
/// `apply(yaml)` per change), with typed results instead of `(ok, message)`.
///
/// The native applier (server-side apply through ``ResourceManager``, the default) is what ``ServiceSyncer`` uses
/// directly; it alone keeps inventories, prunes, checks drift and waits for health. ``KubectlApplyer`` and
/// ``NokubeApplyer`` apply only: with them those steps are skipped and said to be unsupported.
public protocol Applyer: Sendable {
    /// `kubectl`, `nokube`.
    var name: String { get }

    /// Prepares what the applier needs (a binary, a check that it runs). Called once, before the first apply.
    func install() async throws(ApplyerError)

    /// Applies the objects of one service; with `dryRun` the target validates without storing, if it can.
    func apply(_ objects: [KubeObject], service: String, dryRun: Bool) async throws(ApplyerError) -> ChangeSet
}

/// An applier failed: what it was doing, and what the program said (secrets redacted).
public struct ApplyerError: Error, Sendable, CustomStringConvertible {
    public var applyer: String
    public var message: String
    /// Whether trying again later may help (a timeout, a download that failed).
    public var isTransient: Bool

    public init(applyer: String, message: String, isTransient: Bool) {
        self.applyer = applyer
        self.message = message
        self.isTransient = isTransient
    }

    public var description: String { "\(applyer) applier: \(message)" }
}

/// Which applier a config selects (`applyer: native|kubectl|nokube`; without it, `nokube` when `applyer_nokube` is
/// set, as in the seed, else `native`).
public enum ApplyerKind: String, Sendable, Hashable, CaseIterable {
    case native, kubectl, nokube
}

extension ApplyerKind {
    /// What is not done with this applier, for the message said once at start.
    public var unsupported: String? {
        self == .native
            ? nil
            : "the \(rawValue) applier only applies: prune, drift correction and health checks need the native applier"
    }
}

/// What external appliers share: the YAML stream they read, and how their program is run.
enum ApplyerInput {
    /// Every object, in apply order.
    static func yaml(_ objects: [KubeObject]) -> [UInt8] {
        Array(YAMLWriter.stream(ApplyOrder.sorted(objects)).utf8)
    }

    /// Runs the applier's program; a program that cannot run, or runs out of time, is the applier's error.
    static func run(_ command: Command, applyer: String) async throws(ApplyerError) -> CommandResult {
        do {
            return try await CommandRunner.run(command)
        } catch {
            throw ApplyerError(applyer: applyer, message: error.description, isTransient: error.kind == .timedOut)
        }
    }
}

extension WherryConfig {
    /// The external applier the config selects, or `nil` for the native one.
    public func externalApplyer(kubeconfig: String?, context: String?, stateDirectory: String) -> (any Applyer)? {
        switch applyer {
        case .native: nil
        case .kubectl: KubectlApplyer(kubeconfig: kubeconfig, context: context)
        case .nokube: applyerNokube.map { NokubeApplyer(config: $0, stateDirectory: stateDirectory) }
        }
    }
}
