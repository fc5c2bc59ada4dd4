public import ServiceLifecycle

extension EventBus: Service {
    /// Waits for graceful shutdown, then ends every open event stream, so the HTTP server can stop.
    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            // Cancelled: the streams end all the same.
        }
        close()
    }
}
