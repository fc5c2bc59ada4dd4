import ArgumentParser
import Foundation
import Logging
import Synchronization
import WherryController
import WherryGit

/// Options every command that reads the config takes.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Path of gitops-config.yaml.",
            discussion: """
                Default: $WHERRY_CONFIG, else $GITOPS_CONFIG, else ./gitops-config.yaml, else \
                /etc/gitops/gitops-config.yaml.
                """))
    var config: String?

    @Option(help: "Directory for state and the git cache (default: state_dir from the config, else ~/.cache/wherry).")
    var stateDir: String?

    @OptionGroup var logging: LoggingOptions

    /// The config path after defaults.
    var configPath: String {
        if let config { return config }
        for variable in ["WHERRY_CONFIG", "GITOPS_CONFIG"] {
            if let fromEnvironment = ProcessInfo.processInfo.environment[variable], !fromEnvironment.isEmpty {
                return fromEnvironment
            }
        }
        if FileManager.default.fileExists(atPath: "gitops-config.yaml") { return "gitops-config.yaml" }
        return "/etc/gitops/gitops-config.yaml"
    }

    /// Loads the config, printing every problem and warning to stderr; exits 2 on errors.
    func load() throws -> LoadedConfig {
        do {
            let loaded = try ConfigLoader.load(path: configPath)
            for warning in loaded.warnings { Terminal.error(warning.description) }
            return loaded
        } catch {
            for issue in error.issues { Terminal.error(issue.description) }
            let count = error.issues.filter { $0.severity == .error }.count
            Terminal.error("\(configPath): \(count) error\(count == 1 ? "" : "s"); nothing was done")
            throw ExitStatus.usage.code
        }
    }

    /// Reads services from Git through the cache under the state directory.
    func serviceRenderer(for config: WherryConfig) -> ServiceRenderer {
        ServiceRenderer(
            git: GitCLISource(cacheDirectory: stateDirectory(config) + "/git", logger: Logger(label: "wherry.git")))
    }

    /// Where state and the git cache live.
    func stateDirectory(_ config: WherryConfig) -> String {
        // Absolute: git runs in other directories and would read a relative path against its own.
        if let stateDir {
            return stateDir.hasPrefix("/") ? stateDir : FileManager.default.currentDirectoryPath + "/" + stateDir
        }
        if let configured = config.stateDirectory { return configured }
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return "\(cache)/wherry" }
        return NSString(string: "~/.cache/wherry").expandingTildeInPath
    }
}

/// `--log-level` and `--log-format`.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: LogLevel = .warning

    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    /// Sets up swift-log once for the process; logs go to stderr so stdout stays machine-readable.
    func bootstrap() {
        let level = Logger.Level(rawValue: logLevel.rawValue) ?? .warning
        let format = logFormat
        // What the command itself says on stderr follows the format too: with json, every line is JSON.
        Terminal.json.store(format == .json, ordering: .relaxed)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// How logs are written.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--log-level` values, as swift-log names them.
enum LogLevel: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// Output to the terminal.
enum Terminal {
    /// Whether lines on stderr are JSON log lines (`--log-format json`).
    static let json = Atomic<Bool>(false)

    /// A line on stderr.
    static func error(_ text: String) {
        if json.load(ordering: .relaxed) {
            JSONLogHandler.write(level: "error", label: "wherry", message: text)
        } else {
            LogOutput.write(text)
        }
    }

    /// A line on stderr that is news, not a problem (`listening on ...`).
    static func info(_ text: String) {
        if json.load(ordering: .relaxed) {
            JSONLogHandler.write(level: "info", label: "wherry", message: text)
        } else {
            LogOutput.write(text)
        }
    }
}
