import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WherryController

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `wherry run`'s config reload: the file is read again when its identity changes (resolved path, inode, mtime,
/// size: a mounted ConfigMap is replaced through a symlink swap, which changes the resolved path) — checked every
/// `every` — and on SIGHUP. A new config that does not load is logged with its located errors and the running one
/// stays.
final class ConfigWatcher: Service, Sendable {
    let path: String
    let loop: ReconcileLoop
    let every: Duration
    private let logger = Logger(label: "wherry.config")
    private let hangup = Atomic<Bool>(false)
    /// The file's identity when the running config was read.
    private let loaded: Identity?

    /// `identity`: the file's, taken before the running config was read.
    init(path: String, loop: ReconcileLoop, identity: Identity?, every: Duration = .seconds(3)) {
        self.path = path
        self.loop = loop
        self.every = every
        loaded = identity
    }

    /// What tells one version of the file from another.
    struct Identity: Equatable {
        var resolved: String
        var inode: UInt64
        var modified: Int64
        var modifiedNanoseconds: Int64
        var size: Int64
    }

    static func identity(of path: String) -> Identity? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        var info = stat()
        let target = String(cString: resolved)
        guard stat(target, &info) == 0 else { return nil }
        return Identity(
            resolved: target, inode: UInt64(info.st_ino), modified: Int64(info.st_mtim.tv_sec),
            modifiedNanoseconds: Int64(info.st_mtim.tv_nsec), size: Int64(info.st_size))
    }

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { self.hangup.store(true, ordering: .relaxed) }
        source.resume()
        defer { source.cancel() }
        await cancelWhenGracefulShutdown {
            var known = self.loaded
            var lastLook = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                let asked = self.hangup.exchange(false, ordering: .relaxed)
                guard asked || ContinuousClock.now - lastLook >= self.every else { continue }
                lastLook = ContinuousClock.now
                let now = Self.identity(of: self.path)
                guard asked || (now != nil && now != known) else { continue }
                // Waited for: the next check sees this version as known, whether it loads or not.
                known = now
                await self.reload(reason: asked ? "SIGHUP" : "the file changed")
            }
        }
    }

    /// The settings `wherry run` reads at start only that differ between `old` and `new`, by their config names.
    static func startOnlyChanges(from old: WherryConfig, to new: WherryConfig) -> [String] {
        var names: [String] = []
        if old.apiTokenEnv != new.apiTokenEnv { names.append("api_token_env") }
        if old.webhookSecretEnv != new.webhookSecretEnv { names.append("webhook_secret_env") }
        if old.webhookURL != new.webhookURL { names.append("webhook_url") }
        if old.webhookURLEnv != new.webhookURLEnv { names.append("webhook_url_env") }
        if old.instance != new.instance { names.append("instance") }
        if old.applyer != new.applyer { names.append("applyer") }
        if old.applyerNokube != new.applyerNokube { names.append("applyer_nokube") }
        if old.stateDirectory != new.stateDirectory { names.append("state_dir") }
        if old.downloadBaseURL != new.downloadBaseURL { names.append("download_base_url") }
        if old.artifactsDirectory != new.artifactsDirectory { names.append("artifacts_dir") }
        return names
    }

    /// Loads the file and puts it in force, or logs why not.
    func reload(reason: String) async {
        do {
            let loaded = try ConfigLoader.load(path: path)
            for warning in loaded.warnings {
                logger.warning("Config warning", metadata: ["wherry.issue": "\(warning.description)"])
            }
            let restart = Self.startOnlyChanges(from: loop.config, to: loaded.config)
            let report = await loop.reloadReadingSuspensions(loaded.config)
            if !restart.isEmpty {
                logger.warning(
                    "Config settings changed that are read at start only; restart wherry run to use them",
                    metadata: ["wherry.settings": "\(restart.joined(separator: ", "))"])
            }
            if report.isEmpty, restart.isEmpty {
                logger.info("Config read again: nothing changed", metadata: ["wherry.reason": "\(reason)"])
            }
            let namespace = loop.reconciler.syncer.inventories.cluster.namespace
            for name in report.removed {
                let command = OrphanHint.command(service: name, config: loaded.config.file, namespace: namespace)
                logger.warning(
                    "Service removed from the config; its objects were left in the cluster",
                    metadata: ["wherry.service": "\(name)", "wherry.hint": "remove them with: \(command)"])
            }
        } catch {
            for issue in error.issues {
                logger.error("Config error", metadata: ["wherry.issue": "\(issue.description)"])
            }
            logger.error(
                "The new config has errors; the running config stays",
                metadata: ["wherry.file": "\(path)", "wherry.reason": "\(reason)"])
        }
    }
}
