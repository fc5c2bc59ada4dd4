import Foundation
public import Hummingbird

/// The seed's download server: files under `artifacts_dir` at `/scripts/…`, `/apps/…` and `/configs/…`, for the
/// init containers of stateless services.
///
/// Only regular files inside the directory are served: a path with `..`, `.` or hidden segments (also when
/// percent-encoded), a NUL or backslash, or a symbolic link that leads outside the directory answers 404, as does a
/// directory (no listings). Answers carry a content type by extension, `ETag` and `Last-Modified`; `If-None-Match`
/// answers 304; a single `Range` answers 206 (416 with a JSON error when it cannot be satisfied; several ranges get
/// the whole file).
/// Bodies are streamed from disk in chunks.
public struct ArtifactServer: Sendable {
    /// The directory served, with symbolic links resolved.
    public let root: String
    /// The top-level folders served.
    public static let prefixes = ["scripts", "apps", "configs"]
    private let fileIO = FileIO()

    public init(directory: String) {
        root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
    }

    /// Adds `GET`/`HEAD` routes for the served folders.
    public func register(on router: Router<BasicRequestContext>) {
        for prefix in Self.prefixes {
            for method: HTTPRequest.Method in [.get, .head] {
                router.on("/\(prefix)/**", method: method) { request, context in
                    try await serve(request, context: context)
                }
            }
        }
    }

    /// The file a request path names, or `nil` when it is not one that may be served.
    public func file(forPath rawPath: String) -> String? {
        var segments: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let segment = String(raw).removingPercentEncoding else { return nil }
            guard !segment.isEmpty, !segment.hasPrefix("."), !segment.contains("/"), !segment.contains("\\"),
                !segment.contains("\0")
            else { return nil }
            segments.append(segment)
        }
        guard segments.count >= 2, Self.prefixes.contains(segments[0]) else { return nil }
        let candidate = URL(fileURLWithPath: root).appendingPathComponent(segments.joined(separator: "/"))
        // Symbolic links are followed only while they stay inside the directory.
        let resolved = candidate.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue
        else { return nil }
        return resolved
    }

    private func serve(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let path = file(forPath: request.uri.path),
            let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            return StatusAPI.error(.notFound, "no such file")
        }
        let modified = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let etag = "\"\(String(size, radix: 16))-\(String(Int(modified.timeIntervalSince1970 * 1000), radix: 16))\""
        var headers: HTTPFields = [
            .contentType: Self.contentType(of: path), .eTag: etag, .acceptRanges: "bytes",
            .lastModified: Self.httpDate(modified),
        ]
        if let match = request.headers[.ifNoneMatch],
            match == "*"
                || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        var range: ClosedRange<Int>?
        if let header = request.headers[.range] {
            switch Self.byteRange(header, size: size) {
            case .whole: break
            case .part(let part): range = part
            case .unsatisfiable:
                guard request.method != .head else {
                    headers[.contentRange] = "bytes */\(size)"
                    return Response(status: .rangeNotSatisfiable, headers: headers)
                }
                var response = StatusAPI.error(
                    .rangeNotSatisfiable, "the range \(header) is outside the file's \(size) bytes")
                response.headers[.contentRange] = "bytes */\(size)"
                response.headers[.eTag] = etag
                response.headers[.acceptRanges] = "bytes"
                return response
            }
        }
        let length = range.map { $0.count } ?? size
        headers[.contentLength] = String(length)
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)" }
        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        if request.method == .head || length == 0 { return Response(status: status, headers: headers) }
        let body = try await fileIO.loadFile(path: path, range: range ?? 0...(size - 1), context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// What a `Range` header asks for.
    enum RangeRequest: Equatable {
        case whole
        case part(ClosedRange<Int>)
        case unsatisfiable
    }

    /// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n`; several ranges, or another unit, get the whole file.
    static func byteRange(_ header: String, size: Int) -> RangeRequest {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return .unsatisfiable }
            guard size > 0 else { return .unsatisfiable }
            return .part(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(parts[0]), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        let end = parts[1].isEmpty ? size - 1 : min(Int(parts[1]) ?? -1, size - 1)
        // A last position before the first is not a valid range: ignored, as the RFC says.
        guard end >= start else { return .whole }
        return .part(start...end)
    }

    static func contentType(of path: String) -> String {
        let name = path.lowercased()
        if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") || name.hasSuffix(".gz") { return "application/gzip" }
        switch (name as NSString).pathExtension {
        case "sh": return "text/x-shellscript; charset=utf-8"
        case "json": return "application/json"
        case "yaml", "yml": return "application/yaml"
        case "txt", "conf", "ini", "properties", "toml": return "text/plain; charset=utf-8"
        case "tar": return "application/x-tar"
        case "zip": return "application/zip"
        case "html": return "text/html; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
