/// The paths a kustomization file names, read from its fields as kustomize reads them.
enum KustomizationReferences {
    /// One thing a kustomization loads.
    enum Reference: Equatable {
        /// A file or a directory kustomize builds (a base, a component, a generator), or a remote.
        case resource(String)
        /// A file it reads (a patch, a generator's input, a replacement, a CRD, an OpenAPI schema), or a remote.
        case file(String)
        /// Something Wherry cannot pin to the repository, described.
        case unsupported(String)
    }

    /// Fields whose items are files or directories to build (or inline YAML, for generators and transformers).
    static let resourceFields = ["resources", "bases", "components", "generators", "transformers", "validators"]
    /// Fields whose items are files (or, for strategic merge patches, inline patches).
    static let fileFields = ["crds", "configurations", "patchesStrategicMerge"]
    /// Fields whose items are maps with an optional `path` to a file.
    static let pathFields = ["patches", "patchesJson6902", "replacements"]
    /// Fields that make kustomize fetch charts.
    static let helmFields = ["helmCharts", "helmChartInflationGenerator", "helmGlobals"]

    /// Every reference of a parsed kustomization file.
    static func of(_ kustomization: YAMLValue) -> [Reference] {
        var references: [Reference] = []
        for field in resourceFields {
            references += strings(kustomization[field]).filter { !isInline($0) }.map(Reference.resource)
        }
        for field in fileFields {
            references += strings(kustomization[field]).filter { !isInline($0) }.map(Reference.file)
        }
        for field in pathFields {
            for item in items(kustomization[field]) {
                if let path = item["path"]?.json.stringValue, !path.isEmpty {
                    references.append(.file(path))
                } else if let text = item.json.stringValue, !text.isEmpty, !isInline(text) {
                    references.append(.file(text))
                }
            }
        }
        for field in ["configMapGenerator", "secretGenerator"] {
            for generator in items(kustomization[field]) {
                // `files` items are `path` or `key=path`.
                references += strings(generator["files"]).map { item in
                    .file(item.firstIndex(of: "=").map { String(item[item.index(after: $0)...]) } ?? item)
                }
                references += strings(generator["envs"]).map(Reference.file)
                if let env = generator["env"]?.json.stringValue, !env.isEmpty { references.append(.file(env)) }
            }
        }
        if let path = kustomization["openapi"]?["path"]?.json.stringValue, !path.isEmpty {
            references.append(.file(path))
        }
        for field in helmFields where kustomization[field].map({ !$0.isNull }) == true {
            references.append(.unsupported("'\(field)' (Helm charts are fetched at build time)"))
        }
        return references
    }

    /// Whether kustomize would fetch this reference rather than read it from disk (URLs, `git@host:repo`, and
    /// `github.com/...`-style paths).
    static func isRemote(_ path: String) -> Bool {
        if path.contains("://") || path.hasPrefix("git@") || path.hasPrefix("git::") { return true }
        guard let first = path.split(separator: "/").first else { return false }
        return first.contains(".") && first != "." && first != ".." && path.contains("/")
    }

    /// Inline YAML (a patch or a generator written in place) rather than a path.
    private static func isInline(_ text: String) -> Bool {
        text.contains("\n") || text.contains(": ") || text.hasPrefix("{")
    }

    private static func items(_ value: YAMLValue?) -> [YAMLValue] {
        guard case .sequence(let items)? = value?.content else { return [] }
        return items
    }

    private static func strings(_ value: YAMLValue?) -> [String] {
        items(value).compactMap { $0.json.stringValue }.filter { !$0.isEmpty }
    }
}
