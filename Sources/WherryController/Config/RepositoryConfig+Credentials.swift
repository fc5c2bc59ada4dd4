import Foundation
public import WherryGit
import WherryModel

extension RepositoryConfig {
    /// The Git remote with its credentials read now (environment variables and files can change between polls).
    public func gitRepository(environment: [String: String]? = nil) throws(ConfigError) -> GitRepository {
        let environment = environment ?? ProcessInfo.processInfo.environment
        return GitRepository(url: url, branch: branch, credentials: try credentials(environment: environment))
    }

    private func credentials(environment: [String: String]) throws(ConfigError) -> GitCredentials {
        if let sshKeyFile { return .ssh(keyFile: sshKeyFile, knownHostsFile: knownHostsFile) }
        switch token {
        case nil:
            return .none
        case .inline(let secret):
            return .token(secret.value)
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigError([
                    ConfigIssue(
                        .error, location, "environment variable \(name) (token_env of '\(key)') is not set",
                        hint: "export \(name) with the token, or remove token_env for a public repository")
                ])
            }
            return .token(value)
        case .file(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError([
                    ConfigIssue(
                        .error, location, "token_file '\(path)' of '\(key)' cannot be read",
                        hint: "check that the Secret is mounted there and readable")
                ])
            }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else {
                throw ConfigError([ConfigIssue(.error, location, "token_file '\(path)' of '\(key)' is empty")])
            }
            return .token(value)
        }
    }
}
