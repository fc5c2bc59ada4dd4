/// One run of an external program: what to run, with which environment, for how long.
public struct Command: Sendable {
    /// Program name (looked up on `PATH`) or absolute path.
    public var executable: String
    /// Arguments, never containing secrets: they show in `ps`.
    public var arguments: [String]
    /// Environment changes on top of the inherited environment; `nil` removes a variable.
    public var environment: [String: String?]
    /// Whether the program starts from Wherry's own environment; when `false` it gets only the variables
    /// `environment` sets (for programs that must not see Wherry's credentials).
    public var inheritsEnvironment: Bool
    /// Working directory; the current one when `nil`.
    public var workingDirectory: String?
    /// Bytes written to standard input.
    public var input: [UInt8]?
    /// Wall-clock limit; the process (and its process group) is terminated when it passes.
    public var timeout: Duration
    /// Most bytes of standard output kept; more is an error rather than a silent truncation.
    public var outputLimit: Int
    /// Strings removed from any output or error text this run produces (tokens, passwords).
    public var secrets: [String]

    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String?] = [:],
        inheritsEnvironment: Bool = true,
        workingDirectory: String? = nil,
        input: [UInt8]? = nil,
        timeout: Duration = .seconds(60),
        outputLimit: Int = 64 << 20,
        secrets: [String] = []
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.inheritsEnvironment = inheritsEnvironment
        self.workingDirectory = workingDirectory
        self.input = input
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.secrets = secrets
    }

    /// The command line for messages: program and arguments, secrets redacted.
    public var displayLine: String {
        Redactor(secrets: secrets).redact(([executable] + arguments).joined(separator: " "))
    }
}

/// What a finished program left: its exit status and output.
public struct CommandResult: Sendable {
    /// Exit code, or `nil` when the program died from a signal.
    public var exitCode: Int32?
    /// The signal that ended the program, if any.
    public var signal: Int32?
    /// Standard output, raw.
    public var stdout: [UInt8]
    /// Standard error as text, secrets redacted.
    public var stderr: String

    public init(exitCode: Int32?, signal: Int32?, stdout: [UInt8], stderr: String) {
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether the program exited with status 0.
    public var succeeded: Bool { exitCode == 0 }

    /// Standard output decoded as UTF-8 (invalid sequences repaired).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Why a program could not be run to completion.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Kind: Sendable, Equatable {
        /// The executable is not on `PATH` (or the path does not exist).
        case notFound
        /// It ran longer than its timeout and was terminated.
        case timedOut
        /// It wrote more than the output limit.
        case outputTooLarge
        /// It could not be started, or its pipes failed.
        case launchFailed
        /// The task that ran it was cancelled (a shutdown, a lost lease): it was stopped; not a failure of its own.
        case cancelled
    }

    public var kind: Kind
    /// The command line, secrets redacted.
    public var command: String
    /// Detail, secrets redacted.
    public var detail: String

    public init(kind: Kind, command: String, detail: String) {
        self.kind = kind
        self.command = command
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .notFound: "'\(command.split(separator: " ").first ?? "")' was not found on PATH; install it"
        case .timedOut: "'\(command)' did not finish within \(detail) and was stopped"
        case .outputTooLarge: "'\(command)' wrote more than \(detail) of output"
        case .launchFailed: "'\(command)' could not be run: \(detail)"
        case .cancelled: "'\(command)' was stopped: the work was cancelled"
        }
    }
}
