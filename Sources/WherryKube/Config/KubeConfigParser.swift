import Foundation
import WherryModel
import Yams

/// Reads kubeconfig text (YAML or JSON) into a ``KubeConfig``, failing on the first unusable field with its file,
/// line and field path. Never puts a field's value into a message: it may be a secret.
struct KubeConfigParser {
    /// The file, for messages.
    let file: String
    /// Directory that relative paths (`certificate-authority`, `client-key`, `tokenFile`) are relative to.
    let baseDirectory: String

    func parse(_ text: String) throws(KubeConfigError) -> KubeConfig {
        let root: Node?
        do {
            root = try Parser(yaml: text).singleRoot()
        } catch let error as YamlError {
            throw translate(error)
        } catch {
            throw KubeConfigError("is not valid YAML or JSON: \(error)", location: SourceLocation(file: file))
        }
        guard let root, !isNull(root) else { return KubeConfig(files: [file]) }
        guard case .mapping(let top) = root else {
            throw KubeConfigError(
                "a kubeconfig must be a map with clusters, users and contexts, found \(kind(root))",
                location: location(root), hint: "check that this is a kubeconfig file")
        }
        var config = KubeConfig(files: [file])
        for (name, item, body) in try namedEntries(top, list: "clusters", body: "cluster") {
            config.clusters[name] = try cluster(name, at: item, body)
        }
        for (name, item, body) in try namedEntries(top, list: "users", body: "user") {
            config.users[name] = try user(name, at: item, body)
        }
        for (name, item, body) in try namedEntries(top, list: "contexts", body: "context") {
            config.contexts[name] = try context(name, at: item, body)
        }
        if let (node, at) = lookup(top, "current-context"), let current = try string(node, field: "current-context") {
            config.currentContext = current
            config.currentContextLocation = at
        }
        return config
    }

    // MARK: Entries

    private func cluster(
        _ name: String, at item: SourceLocation, _ body: Node.Mapping?
    ) throws(KubeConfigError)
        -> KubeConfig.Cluster
    {
        var cluster = KubeConfig.Cluster(name: name, location: item)
        guard let body else { return cluster }
        let fields = locations(body)
        cluster.fieldLocations = fields
        cluster.server = try string(lookup(body, "server")?.node, field: cluster.path("server"))
        cluster.tlsServerName = try string(
            lookup(body, "tls-server-name")?.node, field: cluster.path("tls-server-name"))
        cluster.certificateAuthority = try path(
            lookup(body, "certificate-authority")?.node, field: cluster.path("certificate-authority"))
        cluster.certificateAuthorityData = try base64(
            lookup(body, "certificate-authority-data")?.node, field: cluster.path("certificate-authority-data"))
        cluster.insecureSkipTLSVerify =
            try bool(lookup(body, "insecure-skip-tls-verify")?.node, field: cluster.path("insecure-skip-tls-verify"))
            ?? false
        cluster.proxyURL = try string(lookup(body, "proxy-url")?.node, field: cluster.path("proxy-url"))
        return cluster
    }

    private func user(
        _ name: String, at item: SourceLocation, _ body: Node.Mapping?
    ) throws(KubeConfigError)
        -> KubeConfig.User
    {
        var user = KubeConfig.User(name: name, location: item)
        guard let body else { return user }
        user.fieldLocations = locations(body)
        user.clientCertificate = try path(
            lookup(body, "client-certificate")?.node, field: user.path("client-certificate"))
        user.clientCertificateData = try base64(
            lookup(body, "client-certificate-data")?.node, field: user.path("client-certificate-data"))
        user.clientKey = try path(lookup(body, "client-key")?.node, field: user.path("client-key"))
        user.clientKeyData = try base64(lookup(body, "client-key-data")?.node, field: user.path("client-key-data"))
            .map(Redacted.init)
        user.token = try string(lookup(body, "token")?.node, field: user.path("token")).map(Redacted.init)
        user.tokenFile = try path(lookup(body, "tokenFile")?.node, field: user.path("tokenFile"))
        user.username = try string(lookup(body, "username")?.node, field: user.path("username"))
        user.password = try string(lookup(body, "password")?.node, field: user.path("password")).map(Redacted.init)
        if let exec = lookup(body, "exec")?.node, !isNull(exec) {
            let command = try mapping(exec, field: user.path("exec")).flatMap { lookup($0, "command")?.node }
            user.execCommand = try string(command, field: user.path("exec.command")) ?? ""
        }
        if let provider = lookup(body, "auth-provider")?.node, !isNull(provider) {
            let named = try mapping(provider, field: user.path("auth-provider")).flatMap { lookup($0, "name")?.node }
            user.authProvider = try string(named, field: user.path("auth-provider.name")) ?? ""
        }
        user.impersonation = ["as", "as-uid", "as-groups", "as-user-extra"].filter { key in
            guard let node = lookup(body, key)?.node else { return false }
            return !isEmpty(node)
        }
        return user
    }

    private func context(
        _ name: String, at item: SourceLocation, _ body: Node.Mapping?
    ) throws(KubeConfigError)
        -> KubeConfig.Context
    {
        var context = KubeConfig.Context(name: name, location: item)
        guard let body else { return context }
        context.fieldLocations = locations(body)
        context.cluster = try string(lookup(body, "cluster")?.node, field: context.path("cluster"))
        context.user = try string(lookup(body, "user")?.node, field: context.path("user"))
        context.namespace = try string(lookup(body, "namespace")?.node, field: context.path("namespace"))
        return context
    }

    /// The `- name: x, <body>: {...}` items of `clusters`, `users` or `contexts`, with names checked for
    /// presence and uniqueness (kubectl refuses a name defined twice in one file).
    private func namedEntries(
        _ top: Node.Mapping, list: String, body bodyKey: String
    ) throws(KubeConfigError)
        -> [(name: String, location: SourceLocation, body: Node.Mapping?)]
    {
        guard let (node, _) = lookup(top, list), !isNull(node) else { return [] }
        guard case .sequence(let items) = node else {
            throw KubeConfigError(
                "must be a list of entries with name and \(bodyKey), found \(kind(node))", location: location(node),
                field: list, hint: "write `\(list):` followed by `- name: ...` items")
        }
        var entries: [(name: String, location: SourceLocation, body: Node.Mapping?)] = []
        for (index, item) in items.enumerated() {
            guard let fields = try mapping(item, field: "\(list)[\(index)]") else { continue }
            let nameNode = lookup(fields, "name")?.node
            guard let name = try string(nameNode, field: "\(list)[\(index)].name") else {
                throw KubeConfigError(
                    "the entry has no name", location: location(item), field: "\(list)[\(index)].name",
                    hint: "give every \(bodyKey) a unique name")
            }
            if let first = entries.first(where: { $0.name == name }) {
                throw KubeConfigError(
                    "'\(name)' is defined twice in this file (first at line \(first.location.line))",
                    location: location(item), field: "\(list)[\(name)]", hint: "rename or remove one of them")
            }
            let body = try mapping(lookup(fields, bodyKey)?.node, field: "\(list)[\(name)].\(bodyKey)")
            entries.append((name, location(item), body))
        }
        return entries
    }

    // MARK: Fields

    /// The value under `key` and where the key is.
    private func lookup(_ mapping: Node.Mapping, _ key: String) -> (node: Node, at: SourceLocation)? {
        guard let pair = mapping.first(where: { $0.key.scalar?.string == key }) else { return nil }
        return (pair.value, location(pair.key))
    }

    private func locations(_ mapping: Node.Mapping) -> [String: SourceLocation] {
        var result: [String: SourceLocation] = [:]
        for (key, _) in mapping {
            guard let name = key.scalar?.string, result[name] == nil else { continue }
            result[name] = location(key)
        }
        return result
    }

    private func mapping(_ node: Node?, field: String) throws(KubeConfigError) -> Node.Mapping? {
        guard let node, !isNull(node) else { return nil }
        guard case .mapping(let mapping) = node else {
            throw KubeConfigError("must be a map, found \(kind(node))", location: location(node), field: field)
        }
        return mapping
    }

    /// A string; `nil` when absent, null or empty (kubectl treats an empty string as unset). Numbers are read as
    /// written, as kubectl reads them into string fields.
    private func string(_ node: Node?, field: String) throws(KubeConfigError) -> String? {
        guard let node, !isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            throw KubeConfigError("must be a string, found \(kind(node))", location: location(node), field: field)
        }
        return scalar.string.isEmpty ? nil : scalar.string
    }

    /// A boolean. kubectl reads kubeconfig as YAML 1.1, so `yes`/`no`/`on`/`off` are booleans here too.
    private func bool(_ node: Node?, field: String) throws(KubeConfigError) -> Bool? {
        guard let node, !isNull(node) else { return nil }
        if case .scalar(let scalar) = node, scalar.style == .plain {
            switch scalar.string.lowercased() {
            case "true", "yes", "y", "on": return true
            case "false", "no", "n", "off": return false
            default: break
            }
        }
        let found = node.scalar.map { "'\($0.string)'" } ?? kind(node)
        throw KubeConfigError(
            "must be true or false, found \(found)", location: location(node), field: field,
            hint: "write true or false without quotes")
    }

    /// Base64 data (`*-data` fields). Line breaks and spaces are allowed, as base64 tools wrap lines.
    private func base64(_ node: Node?, field: String) throws(KubeConfigError) -> Data? {
        guard let text = try string(node, field: field), let node else { return nil }
        let compact = String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        guard let data = Data(base64Encoded: compact) else {
            throw KubeConfigError(
                "is not valid base64", location: location(node), field: field,
                hint: "give the base64 of the PEM file (`base64 -w0 FILE`), or its path under the key without -data")
        }
        return data
    }

    /// A file path, made absolute against the directory of this kubeconfig file, as kubectl does.
    private func path(_ node: Node?, field: String) throws(KubeConfigError) -> String? {
        guard let text = try string(node, field: field) else { return nil }
        if text.hasPrefix("/") { return text }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(text).standardizedFileURL.path
    }

    // MARK: Nodes

    private func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// Whether a value says nothing: null, an empty string, list or map.
    private func isEmpty(_ node: Node) -> Bool {
        switch node {
        case .scalar(let scalar): isNull(node) || scalar.string.isEmpty
        case .sequence(let sequence): sequence.isEmpty
        case .mapping(let mapping): mapping.isEmpty
        case .alias: false
        }
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a map"
        case .alias: "an alias"
        }
    }

    private func translate(_ error: YamlError) -> KubeConfigError {
        let hint = "fix the syntax; kubectl config view shows how kubectl reads the file"
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text))" } ?? problem
            return KubeConfigError(
                "is not valid YAML or JSON: \(detail)",
                location: SourceLocation(file: file, line: mark.line, column: mark.column), hint: hint)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return KubeConfigError(
                "duplicate key '\(duplicates.first ?? "")' in a map",
                location: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                hint: "keep one of them")
        default:
            return KubeConfigError("is not valid YAML or JSON", location: SourceLocation(file: file), hint: hint)
        }
    }
}
