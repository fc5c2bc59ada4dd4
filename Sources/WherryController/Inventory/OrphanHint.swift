public import WherryKube

/// The `wherry prune` command that removes an orphaned service's objects, with the flags that reach the same
/// inventories: what a user can paste as it is.
public enum OrphanHint {
    /// `wherry prune -c /etc/gitops/b.yaml --namespace team-b --service api`: the config file, Wherry's namespace
    /// when not the default, and `extra` flags (kubeconfig, context, state directory) as given.
    public static func command(
        service: String, config: String?, namespace: String, extra: [(String, String)] = []
    ) -> String {
        var words = ["wherry", "prune"]
        if let config { words += ["-c", quote(config)] }
        if namespace != ClusterInventory.defaultNamespace { words += ["--namespace", quote(namespace)] }
        for (flag, value) in extra { words += [flag, quote(value)] }
        words += ["--service", quote(service)]
        return words.joined(separator: " ")
    }

    /// A word for a POSIX shell: as it is when it has nothing special, else in single quotes.
    static func quote(_ word: String) -> String {
        let plain =
            !word.isEmpty
            && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@,+".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
