import WherryExec
public import WherryModel

/// Applies with `kubectl apply --server-side --force-conflicts --field-manager=wherry -f -`, for users who want
/// kubectl's behaviour (its own validation and output). The objects are piped in as one YAML stream.
public struct KubectlApplyer: Applyer {
    public let name = "kubectl"
    /// The kubectl program: a name on `PATH` or a path.
    public var kubectl: String
    /// `--kubeconfig` and `--context` to pass on, when set.
    public var kubeconfig: String?
    public var context: String?
    public var timeout: Duration

    public init(
        kubectl: String = "kubectl", kubeconfig: String? = nil, context: String? = nil,
        timeout: Duration = .seconds(300)
    ) {
        self.kubectl = kubectl
        self.kubeconfig = kubeconfig
        self.context = context
        self.timeout = timeout
    }

    /// Checks that kubectl runs.
    public func install() async throws(ApplyerError) {
        let result = try await run(["version", "--client"], input: nil)
        guard result.succeeded else {
            throw ApplyerError(
                applyer: name, message: "`kubectl version --client` failed: \(result.stderr)", isTransient: false)
        }
    }

    public func apply(_ objects: [KubeObject], service: String, dryRun: Bool) async throws(ApplyerError) -> ChangeSet {
        var arguments = [
            "apply", "--server-side", "--force-conflicts", "--field-manager=wherry", "-o", "name", "-f", "-",
        ]
        if dryRun { arguments.append("--dry-run=server") }
        let result = try await run(arguments, input: ApplyerInput.yaml(objects))
        guard result.succeeded else {
            let detail = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ApplyerError(
                applyer: name, message: "kubectl apply failed for service \(service): \(detail)",
                isTransient: detail.contains("connection refused") || detail.contains("timeout"))
        }
        // kubectl cannot tell created from changed from unchanged with server-side apply: every object it names was
        // applied.
        return ChangeSet(entries: ApplyOrder.sorted(objects).map { ChangeSetEntry(ref: $0.ref, action: .configured) })
    }

    private func run(_ arguments: [String], input: [UInt8]?) async throws(ApplyerError) -> CommandResult {
        var all: [String] = []
        if let kubeconfig { all += ["--kubeconfig", kubeconfig] }
        if let context { all += ["--context", context] }
        return try await ApplyerInput.run(
            Command(kubectl, all + arguments, input: input, timeout: timeout), applyer: name)
    }
}
