import WherryController

extension KubeOptions {
    /// The `wherry prune` command for an orphaned service, repeating the flags this command was given (`-c`,
    /// `--namespace`, `--kubeconfig`, `--context`, `--state-dir`), so it reaches the same inventories.
    func pruneCommand(service: String, options: ConfigOptions) -> String {
        var extra: [(String, String)] = []
        if let kubeconfig { extra.append(("--kubeconfig", kubeconfig)) }
        if let context { extra.append(("--context", context)) }
        if let stateDir = options.stateDir { extra.append(("--state-dir", stateDir)) }
        return OrphanHint.command(service: service, config: options.config, namespace: namespace, extra: extra)
    }
}
