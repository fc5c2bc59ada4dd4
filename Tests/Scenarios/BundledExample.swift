import Foundation
public import WherryController
public import WherryTesting

/// The bundled example (`examples/` of this package), as files a test commits to a ``GitRemoteFixture``.
public enum BundledExample {
    /// The package root, found from this file.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every file under `examples/`, keyed by its path in the repository (`examples/...`), each with `replacements`
    /// made (`old → new`), so a test can give the example its own namespace.
    public static func files(replacing replacements: [String: String] = [:]) throws -> [String: String?] {
        let root = "\(packageRoot)/examples"
        var files: [String: String?] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/\(relative)", isDirectory: &isDirectory),
                !isDirectory.boolValue
            else { continue }
            var text = try String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)
            for (old, new) in replacements { text = text.replacing(old, with: new) }
            files["examples/\(relative)"] = text
        }
        return files
    }

    /// The example's two services (`shop`, plain files; `shop-staging`, a kustomize overlay on `../base`), reading
    /// `remote` instead of this checkout.
    public static func config(_ remote: GitRemoteFixture, extra: String = "") throws -> WherryConfig {
        let text = """
            github_configs:
              example: {url: \(remote.fileURL)}
            \(extra)services:
              - {name: shop, github: example, k8s_yaml_dir: examples/shop}
              - {name: shop-staging, github: example, k8s_yaml_dir: examples/overlays/staging}
            """
        return try ConfigLoader.parse(text, file: "gitops-config.yaml", baseDirectory: "/").config
    }
}
