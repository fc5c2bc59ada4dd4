import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// Runs a Hummingbird responder on 127.0.0.1 (a free port) for the length of a test body.
enum LoopbackServer {
    /// Starts the server (HTTPS when `tls` is given), calls `body` with its port, and shuts it down gracefully.
    static func run<Responder: HTTPResponder, T: Sendable>(
        _ responder: Responder, tls: TLSConfiguration? = nil, label: String,
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: label)
        quiet.logLevel = .critical
        let app = Application(
            responder: responder,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: quiet
        )
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A server that stops (or never starts) ends the port stream, so the wait below cannot hang.
                defer { portSink.finish() }
                try await group.run()
            }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw FixtureError("\(label) did not start") }
            // Cancelling the server while a connection it accepted is not handled yet traps in NIO ("Deinited
            // NIOAsyncWriter without calling finish()"): shut down gracefully and give it a moment to end by itself
            // (a connection a test left open ends it by cancellation after that).
            func shutDown() async {
                await group.triggerGracefulShutdown()
                tasks.addTask { try? await Task.sleep(for: .seconds(2)) }
                _ = try? await tasks.next()
            }
            do {
                let result = try await body(port)
                await shutDown()
                return result
            } catch {
                await shutDown()
                throw error
            }
        }
    }
}
