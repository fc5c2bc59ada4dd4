import Foundation

/// A fresh directory under the system temp directory, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    /// Absolute path, symbolic links resolved (macOS' /tmp is a link).
    public let path: String

    /// Creates `…/wherry-<prefix>-XXXXXX`.
    public init(prefix: String = "test") throws {
        var template = Array((NSTemporaryDirectory() + "/wherry-\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "mkdtemp"])
        }
        let raw = String(cString: made)
        path = URL(fileURLWithPath: raw).resolvingSymlinksInPath().path
    }

    /// Writes a file (creating parent directories) and returns its absolute path.
    @discardableResult
    public func write(_ relativePath: String, _ contents: String) throws -> String {
        let full = "\(path)/\(relativePath)"
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
