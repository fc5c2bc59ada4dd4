public import WherryModel

/// One file of a service, read: where it is (relative to the repository) and its bytes.
public struct SourceFile: Sendable, Hashable {
    /// Path relative to the repository root, for messages.
    public var path: String
    /// The file's name (the last path component).
    public var name: String
    public var bytes: [UInt8]

    public init(path: String, name: String, bytes: [UInt8]) {
        self.path = path
        self.name = name
        self.bytes = bytes
    }
}

/// Turns files of one kind into Kubernetes objects: the seam for teaching Wherry a new kind of file (the seed's
/// "add handling for a new file type"). A handler says which files it takes and makes objects from them; every
/// problem it finds is a ``RenderIssue`` with the file (and line, when it has one), so a bad file fails its service
/// with a clear message, never a crash.
///
/// Kubernetes manifests themselves (YAML, JSON, kustomizations) are read by ``ManifestRenderer``, which walks
/// whole trees; handlers read one directory each (a service's `config_dir`). ``ConfigFilesHandler`` is the first.
public protocol FileHandler: Sendable {
    /// Whether the handler takes a file of this name.
    func accepts(_ name: String) -> Bool

    /// The objects made from `files` (the accepted files of one directory, in name order) for `service`.
    func objects(from files: [SourceFile], service: String) throws(RenderFailure) -> [KubeObject]
}

/// Reads a directory's files for a ``FileHandler``: regular files only, in byte order, hidden ones skipped, symbolic
/// links followed only inside the repository, sub-directories refused (their names could not be keys).
public enum HandlerDirectoryReader {
    /// The accepted files of `directory` (relative to `root`, the checkout).
    public static func files(
        root: String, directory: String, handler: some FileHandler, maxBytes: Int = 1 << 20
    ) throws(RenderFailure) -> [SourceFile] {
        let relative = ManifestRenderer.normalise(directory)
        guard let rootPath = canonicalPath(root), let real = canonicalPath("\(rootPath)/\(relative)"),
            real == rootPath || real.hasPrefix(rootPath + "/"), fileKind(real) == .directory
        else {
            throw RenderFailure(
                RenderIssue(
                    location: SourceLocation(file: relative), message: "config_dir is not a directory in the repository"
                ))
        }
        var files: [SourceFile] = []
        var issues: [RenderIssue] = []
        var total = 0
        for name in directoryEntries(real) ?? [] where !name.hasPrefix(".") && handler.accepts(name) {
            let display = "\(relative)/\(name)"
            guard let path = canonicalPath("\(real)/\(name)"), path.hasPrefix(rootPath + "/") else {
                issues.append(
                    RenderIssue(
                        location: SourceLocation(file: display), message: "symbolic link points outside the repository")
                )
                continue
            }
            switch fileKind(path) {
            case .directory:
                issues.append(
                    RenderIssue(
                        location: SourceLocation(file: display),
                        message: "sub-directories of config_dir are not read (a ConfigMap key cannot hold '/'); "
                            + "move its files up or give them a service of their own"))
            case .file:
                total += fileSize(path) ?? 0
                guard total <= maxBytes else {
                    throw RenderFailure(
                        RenderIssue(
                            location: SourceLocation(file: relative),
                            message: "the files of config_dir add up to more than \(maxBytes >> 20) MiB, the most a "
                                + "ConfigMap holds"))
                }
                guard let bytes = readFileBytes(path) else {
                    issues.append(RenderIssue(location: SourceLocation(file: display), message: "cannot read the file"))
                    continue
                }
                files.append(SourceFile(path: display, name: name, bytes: bytes))
            default:
                continue
            }
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
        return files
    }
}
