import Foundation
import WherryExec

extension GitCLISource {
    /// Runs git with Wherry's environment: no prompts, C locale, credentials in the environment only.
    func runGit(
        _ arguments: [String], _ repository: GitRepository, _ operation: String, env: [String: String?] = [:],
        directory: String? = nil
    ) async throws(GitError) -> CommandResult {
        var environment = Self.environment(for: repository, ssh: ssh)
        environment.merge(env) { _, new in new }
        // Never in the directory the process was started in: a repository there (or a broken `.git` file, as in a
        // worktree seen through another mount) must not change what `ls-remote` or `clone` do.
        let command = Command(
            git, arguments, environment: environment, workingDirectory: directory ?? "/", timeout: timeout,
            secrets: Self.secrets(for: repository))
        do {
            return try await CommandRunner.run(command)
        } catch {
            let kind: GitError.Kind =
                switch error.kind {
                case .notFound: .gitNotInstalled
                case .timedOut: .timedOut
                default: .failed
                }
            let message =
                kind == .gitNotInstalled
                ? "the git program ('\(git)') is not installed; install git" : "\(error)"
            throw GitError(kind: kind, operation: operation, remote: repository.displayURL, message: message)
        }
    }

    /// Turns a failed git run into a typed error.
    func check(_ result: CommandResult, _ repository: GitRepository, _ operation: String) throws(GitError) {
        guard !result.succeeded else { return }
        let message = Self.cleanMessage(result.stderr, repository: repository)
        throw GitError(
            kind: Self.classify(result.stderr), operation: operation, remote: repository.displayURL,
            message: message.isEmpty ? "git exited with status \(result.exitCode ?? -1)" : message)
    }

    /// git's environment for one remote.
    static func environment(for repository: GitRepository, ssh program: String = "ssh") -> [String: String?] {
        var env: [String: String?] = [
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            "GIT_ASKPASS": nil,
            "SSH_ASKPASS": nil,
            "LC_ALL": "C",
            "LANGUAGE": nil,
        ]
        var config: [(String, String)] = []
        switch repository.credentials {
        case .none:
            break
        case .token(let token):
            if let scope = GitURL.httpScope(repository.url) {
                config.append(("http.\(scope).extraHeader", "Authorization: Basic \(basicCredentials(token))"))
            }
        case .ssh(let keyFile, let knownHosts):
            var ssh = [shellQuote(program), "-i", shellQuote(keyFile), "-o", "IdentitiesOnly=yes"]
            if let knownHosts { ssh += ["-o", "UserKnownHostsFile=" + shellQuote(knownHosts)] }
            env["GIT_SSH_COMMAND"] = (ssh + sshSafety).joined(separator: " ")
        }
        if env["GIT_SSH_COMMAND"] == nil {
            env["GIT_SSH_COMMAND"] = ([shellQuote(program)] + sshSafety).joined(separator: " ")
        }
        env["GIT_CONFIG_COUNT"] = String(config.count)
        for (index, (key, value)) in config.enumerated() {
            env["GIT_CONFIG_KEY_\(index)"] = key
            env["GIT_CONFIG_VALUE_\(index)"] = value
        }
        return env
    }

    /// Never ask, never accept an unknown host key.
    private static let sshSafety = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]

    static func secrets(for repository: GitRepository) -> [String] {
        var secrets = repository.credentials.secrets
        if case .token(let token) = repository.credentials {
            secrets.append(basicCredentials(token))
        }
        if let embedded = GitURL.embeddedSecret(repository.url) { secrets.append(embedded) }
        return secrets
    }

    /// The HTTP Basic credentials GitHub takes for a token (user `x-access-token`), base64-encoded.
    static func basicCredentials(_ token: String) -> String {
        Data("x-access-token:\(token)".utf8).base64EncodedString()
    }

    static func shellQuote(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }

    static func classify(_ stderr: String) -> GitError.Kind {
        let text = stderr.lowercased()
        let auth = [
            "authentication failed", "could not read username", "could not read password", "terminal prompts disabled",
            "permission denied (publickey", "http 401", "http 403", "the requested url returned error: 401",
            "the requested url returned error: 403", "invalid username or password",
        ]
        if auth.contains(where: text.contains) { return .authenticationFailed }
        let unreachable = [
            "could not resolve host", "connection refused", "failed to connect", "couldn't connect",
            "does not appear to be a git repository", "repository not found", "not found", "no route to host",
            "connection timed out", "could not read from remote repository", "unable to access",
        ]
        if unreachable.contains(where: text.contains) { return .unreachable }
        return .failed
    }

    /// git's stderr without prefixes, hints and secrets, on one line.
    static func cleanMessage(_ stderr: String, repository: GitRepository) -> String {
        let lines = stderr.split(separator: "\n").map { line -> String in
            var text = line.trimmingCharacters(in: .whitespaces)
            for prefix in ["fatal: ", "error: ", "remote: "] where text.hasPrefix(prefix) {
                text = String(text.dropFirst(prefix.count))
            }
            return text
        }.filter { !$0.isEmpty && !$0.hasPrefix("hint:") }
        let redactor = Redactor(secrets: secrets(for: repository))
        return redactor.redact(lines.joined(separator: "; "))
    }
}
