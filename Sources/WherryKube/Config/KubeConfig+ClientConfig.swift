import Foundation
import WherryModel

extension KubeConfig {
    /// Resolves a context into what an HTTP client needs: `context` when given (kubectl's `--context`), else
    /// `current-context`. Reads the certificate and key files it names, and checks the token file is readable.
    ///
    /// Fails, naming the file and field, on anything kubectl would refuse and on what Wherry does not support
    /// yet: `exec` credential plugins, `auth-provider` and impersonation. Those are never run or half-applied.
    public func clientConfig(context requested: String? = nil) throws(KubeConfigError) -> KubeClientConfig {
        let context = try selectedContext(requested)
        let cluster = try named(context, "cluster", in: clusters)
        let user = try named(context, "user", in: users)
        let namespace = try Self.namespace(context)
        let server = try Self.server(cluster)
        let authority = try Self.certificateAuthority(cluster)
        try Self.rejectUnsupported(user)
        return KubeClientConfig(
            server: server, tlsServerName: cluster.tlsServerName, certificateAuthority: authority,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, clientCertificate: try Self.clientCertificate(user),
            credentials: try Self.credentials(user), namespace: namespace, proxyURL: cluster.proxyURL,
            source: .kubeconfig(files: files, context: context.name))
    }

    // MARK: Context, cluster, user

    private func selectedContext(_ requested: String?) throws(KubeConfigError) -> Context {
        let names = Array(contexts.keys)
        if let requested {
            guard let context = contexts[requested] else {
                throw KubeConfigError(
                    "context '\(requested)' (from --context) is not defined in \(filesDescription)",
                    hint: Suggestion.hint(for: requested, in: names, kind: "context"))
            }
            return context
        }
        guard let current = currentContext else {
            let available = names.isEmpty ? "" : " (available: \(names.sorted().joined(separator: ", ")))"
            throw KubeConfigError(
                "no current-context is set in \(filesDescription)", field: "current-context",
                hint: "pass --context NAME\(available) or run `kubectl config use-context NAME`")
        }
        guard let context = contexts[current] else {
            throw KubeConfigError(
                "names context '\(current)', which is not defined in \(filesDescription)",
                location: currentContextLocation, field: "current-context",
                hint: Suggestion.hint(for: current, in: names, kind: "context")
                    + "; pass --context NAME or run `kubectl config use-context NAME`")
        }
        return context
    }

    /// The cluster or user a context names (`key` is `cluster` or `user`).
    private func named<Entry>(
        _ context: Context, _ key: String, in entries: [String: Entry]
    ) throws(KubeConfigError)
        -> Entry
    {
        let name = key == "cluster" ? context.cluster : context.user
        guard let name else {
            throw KubeConfigError(
                "context '\(context.name)' names no \(key)", location: context.location, field: context.path(key),
                hint: "set \(key) to the name of an entry in \(key)s")
        }
        guard let entry = entries[name] else {
            throw KubeConfigError(
                "\(key) '\(name)' is not defined in \(filesDescription)", location: context.location(of: key),
                field: context.path(key), hint: Suggestion.hint(for: name, in: Array(entries.keys), kind: key))
        }
        return entry
    }

    private static func namespace(_ context: Context) throws(KubeConfigError) -> String {
        guard let namespace = context.namespace else { return "default" }
        let allowed = namespace.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        guard allowed, namespace.utf8.count <= 63, namespace.first != "-", namespace.last != "-" else {
            throw KubeConfigError(
                "'\(namespace)' is not a valid namespace name", location: context.location(of: "namespace"),
                field: context.path("namespace"),
                hint: "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit")
        }
        return namespace
    }

    // MARK: Cluster

    private static func server(_ cluster: Cluster) throws(KubeConfigError) -> URL {
        let at = cluster.location(of: "server")
        let field = cluster.path("server")
        guard let server = cluster.server else {
            throw KubeConfigError(
                "cluster '\(cluster.name)' has no server", location: cluster.location, field: field,
                hint: "set server to the API server URL, e.g. https://10.0.0.1:6443")
        }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), url.host != nil else {
            throw KubeConfigError(
                "'\(KubeClientConfig.displayed(server))' is not a URL with a scheme and a host", location: at,
                field: field, hint: "write the API server as https://HOST:PORT")
        }
        guard scheme == "https" || scheme == "http" else {
            throw KubeConfigError(
                "scheme '\(scheme)' is not supported", location: at, field: field,
                hint: "write the API server as https://HOST:PORT")
        }
        return url
    }

    private static func certificateAuthority(_ cluster: Cluster) throws(KubeConfigError) -> Data? {
        let fileKey = "certificate-authority"
        let dataKey = "certificate-authority-data"
        if cluster.certificateAuthority != nil && cluster.certificateAuthorityData != nil {
            throw KubeConfigError(
                "both \(fileKey) and \(dataKey) are set", location: cluster.location(of: dataKey),
                field: cluster.path(dataKey), hint: "keep one of them")
        }
        let pem: Data
        let key: String
        if let path = cluster.certificateAuthority {
            key = fileKey
            pem = try FileContents.data(
                path, location: cluster.location(of: key), field: cluster.path(key),
                hint:
                    "point \(key) at the cluster's CA certificate (PEM); relative paths are relative to the kubeconfig")
        } else if let data = cluster.certificateAuthorityData {
            key = dataKey
            pem = data
        } else {
            return nil
        }
        if cluster.insecureSkipTLSVerify {
            throw KubeConfigError(
                "insecure-skip-tls-verify is true but \(key) is set too",
                location: cluster.location(of: "insecure-skip-tls-verify"),
                field: cluster.path("insecure-skip-tls-verify"),
                hint: "remove insecure-skip-tls-verify: the certificate authority is the safe way to trust the server")
        }
        try requirePEM(pem, what: "certificate", location: cluster.location(of: key), field: cluster.path(key))
        return pem
    }

    // MARK: User

    private static func rejectUnsupported(_ user: User) throws(KubeConfigError) {
        let instead =
            "use a user with a token, a tokenFile or a client certificate instead, e.g. a ServiceAccount token"
        if let command = user.execCommand {
            let named = command.isEmpty ? "" : " ('\(command)')"
            throw KubeConfigError(
                "exec credential plugins\(named) are not supported yet; Wherry does not run them",
                location: user.location(of: "exec"), field: user.path("exec"), hint: instead)
        }
        if let provider = user.authProvider {
            let named = provider.isEmpty ? "" : " ('\(provider)')"
            throw KubeConfigError(
                "auth-provider\(named) is not supported yet", location: user.location(of: "auth-provider"),
                field: user.path("auth-provider"), hint: instead)
        }
        if let key = user.impersonation.first {
            throw KubeConfigError(
                "impersonation is not supported yet", location: user.location(of: key), field: user.path(key),
                hint: "remove \(user.impersonation.joined(separator: ", ")) and use the identity's own credentials")
        }
    }

    private static func clientCertificate(_ user: User) throws(KubeConfigError) -> KubeClientConfig.ClientCertificate? {
        let certificate = try pemField(
            user, file: "client-certificate", path: user.clientCertificate, data: user.clientCertificateData,
            what: "certificate")
        let key = try pemField(
            user, file: "client-key", path: user.clientKey, data: user.clientKeyData?.value, what: "private key")
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            return KubeClientConfig.ClientCertificate(certificate: certificate, key: Redacted(key))
        case (_?, nil):
            throw KubeConfigError(
                "a client certificate is set without its key", location: user.location, field: user.path("client-key"),
                hint: "set client-key or client-key-data")
        case (nil, _?):
            throw KubeConfigError(
                "a client key is set without its certificate", location: user.location,
                field: user.path("client-certificate"), hint: "set client-certificate or client-certificate-data")
        }
    }

    /// A PEM value given as a file (`client-key`) or as data (`client-key-data`), not both.
    private static func pemField(
        _ user: User, file key: String, path: String?, data: Data?, what: String
    )
        throws(KubeConfigError) -> Data?
    {
        let dataKey = key + "-data"
        if path != nil && data != nil {
            throw KubeConfigError(
                "both \(key) and \(dataKey) are set", location: user.location(of: dataKey), field: user.path(dataKey),
                hint: "keep one of them")
        }
        if let path {
            let pem = try FileContents.data(
                path, location: user.location(of: key), field: user.path(key),
                hint: "point \(key) at a PEM file; relative paths are relative to the kubeconfig")
            try requirePEM(pem, what: what, location: user.location(of: key), field: user.path(key))
            return pem
        }
        guard let data else { return nil }
        try requirePEM(data, what: what, location: user.location(of: dataKey), field: user.path(dataKey))
        return data
    }

    private static func credentials(_ user: User) throws(KubeConfigError) -> KubeClientConfig.Credentials {
        let basic = user.username != nil || user.password != nil
        if basic && (user.token != nil || user.tokenFile != nil) {
            let tokenKey = user.token != nil ? "token" : "tokenFile"
            throw KubeConfigError(
                "both a bearer token and username/password are set; only one authentication method is allowed",
                location: user.location(of: tokenKey), field: user.path(tokenKey),
                hint: "remove the token or the username and password")
        }
        // client-go sends the file's token when both are set, re-reading it as it rotates; so does Wherry.
        if let path = user.tokenFile {
            let file = KubeClientConfig.TokenFile(
                path: path, origin: user.location(of: "tokenFile"), field: user.path("tokenFile"))
            _ = try file.read()
            return .bearerTokenFile(file)
        }
        if let token = user.token { return .bearerToken(token) }
        if basic { return .basic(username: user.username ?? "", password: user.password ?? Redacted("")) }
        return .none
    }

    /// Checks that bytes are PEM, so a twice-encoded or DER value fails here and not in a TLS handshake.
    private static func requirePEM(
        _ bytes: Data, what: String, location: SourceLocation, field: String
    )
        throws(KubeConfigError)
    {
        guard bytes.range(of: Data("-----BEGIN ".utf8)) == nil else { return }
        throw KubeConfigError(
            "does not hold a PEM \(what) (no -----BEGIN line)", location: location, field: field,
            hint: "a *-data field is the base64 of the PEM file, encoded once; a file must be PEM")
    }
}
