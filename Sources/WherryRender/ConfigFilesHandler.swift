import Foundation
public import WherryModel

/// A service's `config_dir` (files such as the seed's `configs/*.json`) as ConfigMap `<service>-config`, one key
/// per file, the first user of the ``FileHandler`` seam.
///
/// JSON files must parse (an error names the file and line). UTF-8 files go to `data`, others to `binaryData`.
/// The ConfigMap carries `wherry.dev/config-hash`, the SHA-256 of its content, which Wherry also puts on the pod
/// templates that use the ConfigMap, so a change to any file rolls them. Secrets are never made from plain files in
/// Git (they would sit in Git in clear): keep them in a Secret made another way.
public struct ConfigFilesHandler: FileHandler {
    /// The annotation holding the content hash, on the ConfigMap and on the pod templates that use it.
    public static let hashAnnotation = "wherry.dev/config-hash"

    public init() {}

    /// `<service>-config`.
    public static func configMapName(service: String) -> String { "\(service)-config" }

    public func accepts(_ name: String) -> Bool {
        // ConfigMap keys: letters, digits, '-', '_' and '.'.
        !name.isEmpty && name.count <= 253
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    public func objects(from files: [SourceFile], service: String) throws(RenderFailure) -> [KubeObject] {
        var data = JSONObject()
        var binary = JSONObject()
        var issues: [RenderIssue] = []
        var digestInput: [UInt8] = []
        for file in files.sorted(by: { $0.name < $1.name }) {
            if file.name.lowercased().hasSuffix(".json") {
                do {
                    _ = try JSONValue.parse(file.bytes)
                } catch {
                    let line = file.bytes.prefix(error.offset).filter { $0 == UInt8(ascii: "\n") }.count + 1
                    issues.append(
                        RenderIssue(
                            location: SourceLocation(file: file.path, line: line),
                            message: "not valid JSON: \(error.message)"))
                    continue
                }
            }
            if let text = String(validating: file.bytes, as: UTF8.self) {
                data[file.name] = .string(text)
            } else {
                binary[file.name] = .string(Data(file.bytes).base64EncodedString())
            }
            digestInput += Array(file.name.utf8) + [0] + file.bytes + [0]
        }
        guard issues.isEmpty else { throw RenderFailure(issues) }
        var body: JSONObject = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(Self.configMapName(service: service)),
                "annotations": [Self.hashAnnotation: .string(Digest.sha256Hex(digestInput))],
            ],
        ]
        if !data.isEmpty { body["data"] = .object(data) }
        if !binary.isEmpty { body["binaryData"] = .object(binary) }
        let source = files.first.map { SourceLocation(file: $0.path) }
        return [KubeObject(body: body, source: source)]
    }
}
