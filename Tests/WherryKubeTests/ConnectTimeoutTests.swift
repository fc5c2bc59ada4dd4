import Foundation
import Logging
import Synchronization
import Testing
import WherryKube
import WherryTesting

#if canImport(Glibc)
    import Glibc
#endif

/// A 127.0.0.1 listener that never accepts and never answers: the kernel completes the TCP handshake into its
/// backlog, and nothing ever speaks TLS or HTTP.
private final class SilentListener: Sendable {
    let port: Int
    private let socketDescriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard descriptor >= 0, bound == 0, listen(descriptor, 16) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        socketDescriptor = descriptor
    }

    func close() { _ = Glibc.close(socketDescriptor) }
}

@Suite("A server that accepts and never answers")
struct ConnectTimeoutTests {
    private var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    @Test("is a timeout after the connect timeout, said once (no retries), and not a certificate problem")
    func timesOut() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let waits = Mutex<[Bool]>([])
        var options = KubeClientOptions(connectTimeout: .milliseconds(500))
        options.slowFirstContactAfter = .milliseconds(100)
        options.onSlowFirstContact = { waiting in waits.withLock { $0.append(waiting) } }
        let api = try HTTPKubeAPI(
            connection: KubeConnection(server: "https://127.0.0.1:\(listener.port)", insecureSkipTLSVerify: true),
            options: options, logger: quiet)
        let started = ContinuousClock.now
        let failure = await #expect(throws: KubeAPIError.self) { _ = try await api.get("/version") }
        let elapsed = ContinuousClock.now - started
        await api.shutdown()
        let error = try #require(failure)
        #expect(error.reason == "ConnectTimeout")
        #expect(error.message.contains("timed out after 0.5 s"), "\(error.message)")
        #expect(!error.description.lowercased().contains("certificate"), "\(error.description)")
        #expect(error.isClusterWide)
        #expect(error.clusterSummary(server: api.server).hasPrefix("cannot reach the API server at https://127.0.0.1:"))
        #expect(elapsed < .seconds(3), "one attempt, not one per retry: \(elapsed)")
        #expect(waits.withLock { $0 } == [true, false], "a slow first contact is told, then its end")
    }

    @Test("a first contact that answers in time is not reported as slow")
    func fastFirstContact() async throws {
        try await FakeAPIServer.withServer { server in
            let baseURL = server.baseURL
            let waits = Mutex<[Bool]>([])
            var options = KubeClientOptions()
            options.onSlowFirstContact = { waiting in waits.withLock { $0.append(waiting) } }
            let api = try HTTPKubeAPI(connection: KubeConnection(server: baseURL), options: options, logger: quiet)
            _ = try await api.get("/version")
            _ = try await api.get("/version")
            await api.shutdown()
            #expect(waits.withLock { $0 }.isEmpty)
        }
    }
}
