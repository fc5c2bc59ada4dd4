/// Everything in a checkout that rendering a service may read, found without rendering it: the service's directory,
/// the targets of symbolic links the directory walk follows, and every local path the kustomizations it builds
/// reference (recursively: a base's own bases, components and patch files). With the Git object ids of ``paths``, a
/// caller can tell that a render would read exactly what it read before.
///
/// Kustomize does not say which files it loads; this follows its fields instead (`resources`, `bases`,
/// `components`, patch, generator, replacement, CRD, configuration and OpenAPI files, generators, transformers and
/// validators). A directory reference counts as that directory's whole tree, a file reference as the file. When
/// something cannot be pinned to the repository (a remote resource, a missing path, a Helm chart, an unreadable
/// kustomization, a path outside the repository, more than the walk's limits), ``unpinned`` says why: then only a
/// render can tell what changed.
public struct RenderInputs: Sendable, Equatable {
    /// Repository-relative paths (directories and files) whose contents cover what the render reads, sorted, none
    /// inside another; `""` is the repository root.
    public var paths: [String]
    /// Why ``paths`` may not cover the render, each naming the kustomization and the reference; empty when they do.
    public var unpinned: [String]
    /// Local references that leave the repository (each also in ``unpinned``).
    public var escaping: [Escape]

    /// A kustomization's local reference that leads outside the repository.
    public struct Escape: Sendable, Hashable, CustomStringConvertible {
        /// The kustomization file, relative to the repository.
        public var file: String
        /// The reference as written.
        public var path: String

        public var description: String { "\(file): \(path)" }
    }

    /// Most kustomizations parsed for one service.
    public static let maxKustomizations = 500
    /// Most directory entries looked at for one service.
    public static let maxEntries = 100_000

    /// Finds the inputs of rendering `directory` (and reading the config files of `configDirectory`), both relative
    /// to `root`, the checkout. Never fails: what it cannot follow is listed in ``unpinned``.
    public static func collect(root: String, directory: String, configDirectory: String? = nil) -> RenderInputs {
        guard let rootPath = canonicalPath(root) else {
            return RenderInputs(paths: [], unpinned: ["the checkout '\(root)' does not exist"], escaping: [])
        }
        var walk = InputWalk(root: rootPath)
        walk.start(directory: directory, configDirectory: configDirectory)
        return RenderInputs(paths: walk.minimalPaths(), unpinned: walk.unpinned, escaping: walk.escaping)
    }

    /// The local references of the kustomization in `directory` (relative to `root`, or absolute) and of everything
    /// it builds on that leave the repository: what the render must refuse to read.
    public static func escapingReferences(root: String, kustomizationDirectory directory: String) -> [Escape] {
        guard let rootPath = canonicalPath(root) else { return [] }
        var walk = InputWalk(root: rootPath)
        walk.enqueueKustomization(absolute: directory.hasPrefix("/") ? directory : "\(rootPath)/\(directory)")
        walk.drainKustomizations()
        return walk.escaping
    }
}

/// The state of one search for a service's render inputs.
private struct InputWalk {
    let root: String
    /// Repository-relative paths whose object ids go into the digest.
    var hashed: Set<String> = []
    var unpinned: [String] = []
    var escaping: [RenderInputs.Escape] = []
    /// Absolute real directories already walked as the plain renderer walks them.
    private var scanned: Set<String> = []
    /// Absolute real directories whose kustomization is parsed or queued.
    private var kustomizations: Set<String> = []
    private var queue: [String] = []
    private var entries = 0

    init(root: String) {
        self.root = root
    }

    mutating func start(directory: String, configDirectory: String?) {
        let relative = ManifestRenderer.normalise(directory)
        hashed.insert(relative)
        if let real = canonicalPath(relative.isEmpty ? root : "\(root)/\(relative)"), inside(real) {
            scan(real, kustomizations: true)
        }
        if let configDirectory {
            let relative = ManifestRenderer.normalise(configDirectory)
            hashed.insert(relative)
            if let real = canonicalPath("\(root)/\(relative)"), inside(real) { scan(real, kustomizations: false) }
        }
        drainKustomizations()
    }

    // MARK: - Directory walk

    /// Walks a directory the way the renderer does: a directory holding a kustomization is built (so its references
    /// are followed, not its files), hidden entries are skipped, symbolic links are followed inside the repository.
    /// The config directory is read one level deep and never built.
    private mutating func scan(_ start: String, kustomizations buildsKustomizations: Bool) {
        var stack = [start]
        while let directory = stack.popLast() {
            guard scanned.insert(directory).inserted else { continue }
            if buildsKustomizations, hasKustomization(directory) {
                enqueueKustomization(absolute: directory)
                continue
            }
            guard let names = directoryEntries(directory) else { continue }
            for name in names where !name.hasPrefix(".") {
                entries += 1
                guard entries <= RenderInputs.maxEntries else {
                    note("more than \(RenderInputs.maxEntries) files and directories to look at")
                    return
                }
                let path = "\(directory)/\(name)"
                switch fileKind(path) {
                case .directory where buildsKustomizations:
                    stack.append(path)
                case .symlink:
                    // A link leading outside the repository, or nowhere, is the renderer's error to report.
                    guard let target = canonicalPath(path), inside(target) else { continue }
                    hash(target)
                    if fileKind(target) == .directory, buildsKustomizations { stack.append(target) }
                default:
                    continue
                }
            }
        }
    }

    // MARK: - Kustomizations

    mutating func enqueueKustomization(absolute directory: String) {
        guard let real = canonicalPath(directory), kustomizations.insert(real).inserted else { return }
        queue.append(real)
    }

    mutating func drainKustomizations() {
        while !queue.isEmpty {
            guard kustomizations.count <= RenderInputs.maxKustomizations else {
                note("more than \(RenderInputs.maxKustomizations) kustomizations")
                return
            }
            parseKustomization(in: queue.removeFirst())
        }
    }

    private mutating func parseKustomization(in directory: String) {
        guard let name = KustomizeBuilder.fileNames.first(where: { fileExists("\(directory)/\($0)") }) else {
            // `kubectl kustomize` fails on a directory without one; nothing to follow.
            return
        }
        let file = "\(directory)/\(name)"
        let shown = display(file)
        guard let text = readTextFile(file), let value = try? YAMLReader.single(text, file: shown) else {
            // Kustomize cannot read it either, so the render fails; without its references nothing is pinned.
            note("\(shown): cannot be read as YAML")
            return
        }
        for reference in KustomizationReferences.of(value) {
            follow(reference, from: directory, file: shown)
        }
    }

    private mutating func follow(_ reference: KustomizationReferences.Reference, from directory: String, file: String) {
        let path: String
        let buildable: Bool
        switch reference {
        case .unsupported(let what):
            note("\(file): \(what)")
            return
        case .resource(let text):
            (path, buildable) = (text, true)
        case .file(let text):
            (path, buildable) = (text, false)
        }
        // Kustomize joins the path to the kustomization's real directory (cleaning `..` as text), resolves links, and
        // tries what does not exist locally as a remote.
        let joined = lexicallyClean(path.hasPrefix("/") ? path : "\(directory)/\(path)")
        guard let real = canonicalPath(joined) else {
            if KustomizationReferences.isRemote(path) {
                note("\(file): '\(path)' is remote")
            } else if !inside(joined) {
                escaping.append(RenderInputs.Escape(file: file, path: path))
                note("\(file): '\(path)' is outside the repository")
            } else {
                note("\(file): '\(path)' does not exist in the repository (kustomize would try it as a remote)")
            }
            return
        }
        guard inside(joined), inside(real) else {
            escaping.append(RenderInputs.Escape(file: file, path: path))
            note("\(file): '\(path)' leads outside the repository")
            return
        }
        hash(real)
        if buildable, fileKind(real) == .directory { enqueueKustomization(absolute: real) }
    }

    // MARK: - Paths

    private mutating func hash(_ absolute: String) {
        hashed.insert(absolute == root ? "" : String(absolute.dropFirst(root.count + 1)))
    }

    private mutating func note(_ reason: String) {
        if !unpinned.contains(reason) { unpinned.append(reason) }
    }

    private func inside(_ absolute: String) -> Bool {
        absolute == root || absolute.hasPrefix(root + "/")
    }

    private func hasKustomization(_ directory: String) -> Bool {
        KustomizeBuilder.fileNames.contains { fileExists("\(directory)/\($0)") }
    }

    private func display(_ absolute: String) -> String {
        inside(absolute) && absolute != root ? String(absolute.dropFirst(root.count + 1)) : absolute
    }

    /// The hashed paths, sorted, without those inside another one.
    func minimalPaths() -> [String] {
        let sorted = hashed.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var kept: [String] = []
        for path in sorted {
            let covered = kept.contains { $0.isEmpty || path == $0 || path.hasPrefix($0 + "/") }
            if !covered { kept.append(path) }
        }
        return kept
    }
}

/// Cleans `.` and `..` from an absolute path as text, as Go's `filepath.Clean` does (so `link/..` is the directory
/// holding `link`, whatever `link` points at).
func lexicallyClean(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        switch part {
        case ".": continue
        case "..": if !parts.isEmpty { parts.removeLast() }
        default: parts.append(part)
        }
    }
    return "/" + parts.joined(separator: "/")
}
