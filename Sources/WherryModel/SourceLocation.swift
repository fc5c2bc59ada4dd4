/// A place in a file, for error messages: `path:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// File path as the user should see it (relative to the repository or config directory where possible).
    public var file: String
    /// 1-based line; 0 when unknown.
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int

    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        guard line > 0 else { return file }
        return column > 0 ? "\(file):\(line):\(column)" : "\(file):\(line)"
    }
}
