import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs external programs (git, kubectl) with a timeout, an output limit and secret redaction.
public enum CommandRunner {
    /// Runs a command to completion. A non-zero exit is a result, not an error: callers decide what it means.
    public static func run(_ command: Command) async throws(CommandError) -> CommandResult {
        let redactor = Redactor(secrets: command.secrets)
        do {
            return try await withThrowingTaskGroup(of: CommandResult?.self) { group in
                group.addTask { try await launch(command, redactor: redactor) }
                group.addTask {
                    try await Task.sleep(for: command.timeout)
                    return nil
                }
                guard let first = try await group.next() else {
                    throw CommandError(kind: .launchFailed, command: command.displayLine, detail: "no result")
                }
                group.cancelAll()
                guard let result = first else {
                    throw CommandError(
                        kind: .timedOut, command: command.displayLine, detail: "\(command.timeout)")
                }
                return result
            }
        } catch let error as CommandError {
            throw error
        } catch  where error is CancellationError || Task.isCancelled {
            throw CommandError(kind: .cancelled, command: command.displayLine, detail: "")
        } catch let error as SubprocessError {
            throw map(error, command: command, redactor: redactor)
        } catch {
            throw CommandError(
                kind: .launchFailed, command: command.displayLine, detail: redactor.redact("\(error)"))
        }
    }

    private static func launch(_ command: Command, redactor: Redactor) async throws -> CommandResult {
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in command.environment { overrides[Environment.Key(stringLiteral: key)] = value }
        var options = PlatformOptions()
        // Own session, so a timeout stops helpers the program started too (git-remote-https, ssh).
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
        let executable: Executable =
            command.executable.contains("/") ? .path(FilePath(command.executable)) : .name(command.executable)
        let result = try await Subprocess.run(
            executable,
            arguments: Arguments(command.arguments),
            environment: command.inheritsEnvironment
                ? Environment.inherit.updating(overrides)
                : Environment.custom(overrides.compactMapValues { $0 }),
            workingDirectory: command.workingDirectory.map { FilePath($0) },
            platformOptions: options,
            input: .array(command.input ?? []),
            output: .bytes(limit: command.outputLimit),
            error: .bytes(limit: 1 << 20)
        )
        var exitCode: Int32?
        var signal: Int32?
        switch result.terminationStatus {
        case .exited(let code): exitCode = code
        case .signaled(let code): signal = code
        }
        return CommandResult(
            exitCode: exitCode,
            signal: signal,
            stdout: result.standardOutput,
            stderr: redactor.redact(String(decoding: result.standardError, as: UTF8.self))
        )
    }

    private static func map(_ error: SubprocessError, command: Command, redactor: Redactor) -> CommandError {
        let line = command.displayLine
        switch error.code {
        case .executableNotFound:
            return CommandError(kind: .notFound, command: line, detail: "")
        case .outputLimitExceeded:
            return CommandError(kind: .outputTooLarge, command: line, detail: "\(command.outputLimit) bytes")
        default:
            return CommandError(kind: .launchFailed, command: line, detail: redactor.redact("\(error)"))
        }
    }
}
