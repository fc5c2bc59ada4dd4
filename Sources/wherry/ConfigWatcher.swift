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

    init(path: String, loop: ReconcileLoop, every: Duration = .seconds(3)) {
        self.path = path
        self.loop = loop
        self.every = every
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
        let start = Self.identity(of: path)
        await cancelWhenGracefulShutdown {
            var known = start
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
                self.reload(reason: asked ? "SIGHUP" : "the file changed")
            }
        }
    }

    /// Loads the file and puts it in force, or logs why not.
    func reload(reason: String) {
        do {
            let loaded = try ConfigLoader.load(path: path)
            for warning in loaded.warnings {
                logger.warning("Config warning", metadata: ["wherry.issue": "\(warning.description)"])
            }
            let report = loop.reload(loaded.config)
            if report.isEmpty {
                logger.info("Config read again: nothing changed", metadata: ["wherry.reason": "\(reason)"])
            }
            for name in report.removed {
                logger.warning(
                    "Service removed from the config; its objects were left in the cluster",
                    metadata: [
                        "wherry.service": "\(name)", "wherry.hint": "remove them with: wherry prune --service \(name)",
                    ])
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
