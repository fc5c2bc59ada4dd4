import Foundation
import WherryModel

extension KubeConfig {
    /// Reads one kubeconfig file. Relative paths in it resolve against its directory, as kubectl resolves them.
    public static func load(path: String) throws(KubeConfigError) -> KubeConfig {
        let text = try FileContents.text(path, location: nil, field: nil, what: "kubeconfig")
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseDirectory: directory)
    }

    /// Parses kubeconfig text (YAML or JSON). `file` names it in messages and in ``files``; relative paths
    /// resolve against `baseDirectory`.
    public static func parse(
        _ text: String, file: String, baseDirectory: String
    ) throws(KubeConfigError)
        -> KubeConfig
    {
        try KubeConfigParser(file: file, baseDirectory: baseDirectory).parse(text)
    }
}
