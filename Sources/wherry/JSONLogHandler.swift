import Foundation
import Logging
import WherryModel

/// One JSON object per line on stderr: `time`, `level`, `logger`, `message`, then metadata keys.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object = JSONObject()
        object["time"] = .string(Date().formatted(.iso8601))
        object["level"] = .string(event.level.rawValue)
        object["logger"] = .string(label)
        object["message"] = .string("\(event.message)")
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { object[key] = .string("\(merged[key]!)") }
        FileHandle.standardError.write(Data((JSONValue.object(object).jsonString() + "\n").utf8))
    }
}
