import Foundation
import WherryModel

/// Reads the files a kubeconfig names, with errors that say which field named the file and why it failed.
enum FileContents {
    /// The bytes of `path`. `what` prefixes the file in messages (`kubeconfig file /x does not exist`).
    static func data(
        _ path: String, location: SourceLocation?, field: String?, what: String = "", hint: String? = nil
    ) throws(KubeConfigError) -> Data {
        let named = what.isEmpty ? "file \(path)" : "\(what) file \(path)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KubeConfigError("\(named) does not exist", location: location, field: field, hint: hint)
        }
        guard !isDirectory.boolValue else {
            throw KubeConfigError("\(named) is a directory", location: location, field: field, hint: hint)
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.isReadableFile(atPath: path) ? "" : " (permission denied)"
            throw KubeConfigError("\(named) cannot be read\(reason)", location: location, field: field, hint: hint)
        }
    }

    /// The text of `path`, which must be UTF-8.
    static func text(
        _ path: String, location: SourceLocation?, field: String?, what: String = "", hint: String? = nil
    ) throws(KubeConfigError) -> String {
        let bytes = try data(path, location: location, field: field, what: what, hint: hint)
        guard let text = String(data: bytes, encoding: .utf8) else {
            let named = what.isEmpty ? "file \(path)" : "\(what) file \(path)"
            throw KubeConfigError("\(named) is not UTF-8 text", location: location, field: field, hint: hint)
        }
        return text
    }

    /// Whether a file (or anything) exists at `path`.
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
