import WherryGit
import WherryModel
import WherryRender

extension ServiceRenderer {
    /// The digest of everything rendering `service` at `checkout` reads, as `<tree id of k8s_yaml_dir>+<digest>`:
    /// the directory, the config directory, what its kustomizations and followed symbolic links reach elsewhere in
    /// the repository (see ``RenderInputs``), Wherry's version, and the settings that change what is applied. Equal
    /// digests mean an equal render, so the Reconciler may skip it. When something cannot be pinned to the commit (a
    /// remote kustomize resource, say), the digest is new on every call, so the service is always rendered.
    func renderDigest(
        of service: ServiceConfig, in config: WherryConfig, repository: GitRepository, checkout: GitCheckout
    ) async throws(GitError) -> String {
        let directory = Self.normalise(service.directory)
        var tree = try await git.treeHash(repository, commit: checkout.commit, path: service.directory)
        var text = "wherry \(WherryVersion.current)\n" + service.renderSettings + Self.applySettings(service, config)
        text += decryptionDigestLine(config.decryption(for: service))
        if let configDirectory = service.configDirectory {
            text += "config_dir " + (try await git.treeHash(repository, commit: checkout.commit, path: configDirectory))
            text += "\n"
        }
        let inputs = RenderInputs.collect(
            root: checkout.path, directory: service.directory, configDirectory: service.configDirectory)
        guard inputs.unpinned.isEmpty else {
            logger.debug(
                "Service reads what Git does not pin; rendering it on every reconcile",
                metadata: [
                    "wherry.service": "\(service.name)",
                    "wherry.reasons": "\(inputs.unpinned.prefix(5).joined(separator: "; "))",
                ])
            return tree + "+unpinned-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        }
        let configDirectory = service.configDirectory.map(Self.normalise)
        let others = inputs.paths.filter { $0 != directory && $0 != configDirectory }
        let ids = try await git.objectIDs(repository, commit: checkout.commit, paths: others)
        for (path, id) in zip(others, ids) { text += "input \(path.isEmpty ? "." : path) \(id)\n" }
        tree += "+" + Digest.sha256Hex(Array(text.utf8)).prefix(16)
        return tree
    }

    /// Settings outside the service's render that still change what a reconcile does to the cluster: the applier
    /// (its field manager owns the fields), and pruning (turned on, it deletes what an earlier apply left).
    static func applySettings(_ service: ServiceConfig, _ config: WherryConfig) -> String {
        var lines = ["applyer \(config.applyer.rawValue)"]
        if let nokube = config.applyerNokube { lines.append("nokube \(nokube.clusterName)") }
        if !service.prune { lines.append("prune false") }
        return lines.map { $0 + "\n" }.joined()
    }

    /// A configured directory without `./`, leading or trailing slashes.
    static func normalise(_ directory: String) -> String {
        directory.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
