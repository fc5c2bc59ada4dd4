import AsyncHTTPClient
import Foundation
import NIOCore
import WherryModel

/// The reason a quiet GET got no document.
struct ControllerAnswerError: Error, CustomStringConvertible {
    var description: String
}

extension ControllerClient {
    /// GETs one JSON document for a part of an answer that may be missing (a route an older controller lacks):
    /// throws ``ControllerAnswerError`` and prints nothing.
    func getQuietly(_ path: String) async throws -> JSONValue {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        let response = try await client.execute(HTTPClientRequest(url: base + path), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        let value = (try? JSONValue.parse(Array(body.readableBytesView))) ?? .null
        guard response.status == .ok else {
            throw ControllerAnswerError(
                description: value["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)")
        }
        return value
    }
}
