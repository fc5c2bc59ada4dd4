public import WherryModel

/// Renders a service's `k8s_yaml_dir` from a checked-out tree into Kubernetes objects.
///
/// A directory holding a kustomization is built with kustomize; any other directory is walked recursively in
/// byte order, reading `*.yaml`, `*.yml` and `*.json` files (multi-document YAML allowed). Hidden files and
/// directories are skipped. Symbolic links are followed only while they stay inside the checkout, and a
/// kustomization may only reference paths inside it.
public struct ManifestRenderer: Sendable {
    /// How kustomizations are built.
    public var kustomize: KustomizeBuilder

    public init(kustomize: KustomizeBuilder = KustomizeBuilder()) {
        self.kustomize = kustomize
    }

    /// Manifest file extensions, lower-case.
    public static let extensions = [".yaml", ".yml", ".json"]

    /// Renders `directory` (relative to `root`, the checkout). Paths in messages are relative to `root`.
    public func render(root: String, directory: String) async throws(RenderFailure) -> [KubeObject] {
        let relative = Self.normalise(directory)
        guard let rootPath = canonicalPath(root) else {
            throw RenderFailure(RenderIssue(location: nil, message: "checkout '\(root)' does not exist"))
        }
        let start = relative.isEmpty ? rootPath : "\(rootPath)/\(relative)"
        let shown = relative.isEmpty ? "." : relative
        switch fileKind(start) {
        case .missing:
            throw RenderFailure(
                RenderIssue(
                    location: SourceLocation(file: shown), message: "k8s_yaml_dir does not exist in the repository"))
        case .file:
            throw RenderFailure(
                RenderIssue(
                    location: SourceLocation(file: shown),
                    message: "k8s_yaml_dir is a file; point it at the directory that holds the manifests"))
        default:
            break
        }
        var walk = Walk(root: rootPath, kustomize: kustomize)
        await walk.visit(path: start, display: shown)
        guard walk.issues.isEmpty else { throw RenderFailure(walk.issues) }
        try Self.rejectDuplicates(walk.objects)
        return walk.objects
    }

    /// Two documents for one object would overwrite each other silently; say where both are.
    public static func rejectDuplicates(_ objects: [KubeObject]) throws(RenderFailure) {
        var seen: [ObjectRef: KubeObject] = [:]
        var issues: [RenderIssue] = []
        for object in objects {
            if let first = seen[object.ref] {
                let firstPlace = first.source.map { " (first defined at \($0))" } ?? ""
                issues.append(
                    RenderIssue(
                        location: object.source, object: object.ref.description,
                        message: "defined twice\(firstPlace); keep one definition"))
            } else {
                seen[object.ref] = object
            }
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
    }

    /// Strips `./`, leading and trailing slashes from a configured directory.
    static func normalise(_ directory: String) -> String {
        directory.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}

/// The state of one recursive walk.
private struct Walk {
    let root: String
    let kustomize: KustomizeBuilder
    var objects: [KubeObject] = []
    var issues: [RenderIssue] = []

    init(root: String, kustomize: KustomizeBuilder) {
        self.root = root
        self.kustomize = kustomize
    }

    mutating func visit(path: String, display: String) async {
        guard let real = insideRoot(path, display: display) else { return }
        switch fileKind(real) {
        case .directory:
            await visitDirectory(real, display: display)
        case .file:
            guard ManifestRenderer.extensions.contains(where: { display.lowercased().hasSuffix($0) }) else { return }
            if let size = fileSize(real), size > YAMLReader.maxFileBytes {
                issues.append(
                    RenderIssue(
                        location: SourceLocation(file: display),
                        message:
                            "the file is \(size >> 20) MiB; manifests are read up to \(YAMLReader.maxFileBytes >> 20) MiB "
                            + "per file: split it"))
                return
            }
            guard let text = readTextFile(real) else {
                issues.append(RenderIssue(location: SourceLocation(file: display), message: "cannot read the file"))
                return
            }
            do {
                objects += try ManifestReader.objects(from: text, file: display)
            } catch {
                issues += error.issues
            }
        default:
            return
        }
    }

    private mutating func visitDirectory(_ real: String, display: String) async {
        if KustomizeBuilder.fileNames.contains(where: { fileExists("\(real)/\($0)") }) {
            // kustomize reads any directory it is pointed at; Wherry reads only the repository.
            let escapes = RenderInputs.escapingReferences(root: root, kustomizationDirectory: real)
            guard escapes.isEmpty else {
                issues += escapes.map { escape in
                    RenderIssue(
                        location: SourceLocation(file: escape.file),
                        message:
                            "'\(escape.path)' is outside the repository; Wherry only reads files from the repository")
                }
                return
            }
            do {
                objects += try await kustomize.build(directory: real, displayPath: display)
            } catch {
                issues += error.issues
            }
            return
        }
        guard let entries = directoryEntries(real) else {
            issues.append(RenderIssue(location: SourceLocation(file: display), message: "cannot list the directory"))
            return
        }
        for name in entries where !name.hasPrefix(".") {
            let childDisplay = display == "." ? name : "\(display)/\(name)"
            await visit(path: "\(real)/\(name)", display: childDisplay)
        }
    }

    /// Resolves symbolic links and refuses any that lead outside the checkout.
    private mutating func insideRoot(_ path: String, display: String) -> String? {
        guard let real = canonicalPath(path) else {
            issues.append(
                RenderIssue(location: SourceLocation(file: display), message: "broken symbolic link; fix or remove it"))
            return nil
        }
        guard real == root || real.hasPrefix(root + "/") else {
            issues.append(
                RenderIssue(
                    location: SourceLocation(file: display),
                    message: "symbolic link points outside the repository; Wherry only reads files from the repository")
            )
            return nil
        }
        return real
    }
}
