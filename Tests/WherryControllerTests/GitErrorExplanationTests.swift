import Testing
import WherryController
import WherryGit
import WherryModel

@Suite("Git failures about credentials and trust, in one sentence each")
struct GitErrorExplanationTests {
    private func repository(url: String, sshKey: String? = nil, knownHosts: String? = nil) -> RepositoryConfig {
        RepositoryConfig(
            key: "site", owner: nil, name: nil, branch: "main", url: url, token: nil, sshKeyFile: sshKey,
            knownHostsFile: knownHosts, location: SourceLocation(file: "c.yaml"))
    }

    @Test("an unknown SSH host key names the host and the known_hosts file, and how to add it")
    func unknownHostKey() {
        // What git (OpenSSH with StrictHostKeyChecking=yes) prints.
        let error = GitError(
            kind: .unreachable, operation: "ls-remote", remote: "git@github.com:acme/app.git",
            message: "No ED25519 host key is known for github.com and you have requested strict checking.; "
                + "Host key verification failed.; Could not read from remote repository.")
        let text = repository(url: "git@github.com:acme/app.git", knownHosts: "/etc/wherry/known_hosts")
            .explain(error)
        #expect(
            text
                == "the SSH host key of github.com is not trusted (it is not in /etc/wherry/known_hosts, or it changed); "
                + "check its fingerprint, then add it: ssh-keyscan github.com >> /etc/wherry/known_hosts "
                + "(known_hosts_file sets the file)")
    }

    @Test("an unknown host key on another port says how to scan that port")
    func unknownHostKeyOnPort() {
        let error = GitError(
            kind: .unreachable, operation: "ls-remote", remote: "ssh://git@git.example.com:2222/app.git",
            message: "Host key verification failed.; Could not read from remote repository.")
        let text = repository(url: "ssh://git@git.example.com:2222/app.git").explain(error) ?? ""
        #expect(text.contains("ssh-keyscan -p 2222 git.example.com >> ~/.ssh/known_hosts"), "\(text)")
    }

    @Test("a refused SSH key names the key file")
    func refusedKey() {
        let error = GitError(
            kind: .authenticationFailed, operation: "ls-remote", remote: "ssh://git@git.example.com:2222/app.git",
            message: "git@git.example.com: Permission denied (publickey).; Could not read from remote repository.")
        let text = repository(url: "ssh://git@git.example.com:2222/app.git", sshKey: "/keys/deploy").explain(error)
        #expect(
            text
                == "the SSH server refused the key /keys/deploy (ssh_key_file); add its public key to the repository "
                + "(a deploy key) or check ssh_key_file")
    }

    @Test("a failure that is not about credentials is left to git's own words")
    func other() {
        let error = GitError(
            kind: .unreachable, operation: "ls-remote", remote: "https://example.com/app.git",
            message: "Could not resolve host: example.com")
        #expect(repository(url: "https://example.com/app.git").explain(error) == nil)
    }
}
