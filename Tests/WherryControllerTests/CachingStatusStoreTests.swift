import Foundation
import Testing
import WherryController
import WherryTesting

@Suite("The status cache in front of the database")
struct CachingStatusStoreTests {
    @Test("answers what the database holds, including what was there before it started, and writes through")
    func writesThroughAndLoads() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let database = try SQLiteStatusStore(directory: directory.path)
        try await database.record(
            ReconcileAttempt(
                service: "old", revision: "r1", result: .succeeded, startedAt: Date(timeIntervalSince1970: 1),
                durationSeconds: 1))
        let cache = CachingStatusStore(database)
        #expect(try await cache.status(of: "old")?.lastAppliedRevision == "r1")
        try await cache.record(
            ReconcileAttempt(
                service: "new", revision: "r2", result: .failed, error: "e", startedAt: Date(timeIntervalSince1970: 2),
                durationSeconds: 1))
        #expect(try await cache.statuses().map(\.service) == ["new", "old"])
        #expect(try await database.status(of: "new")?.lastError == "e")
        #expect(try await cache.history(of: "new").count == 1)
    }

    @Test("forgetting services removes them from the cache and the database")
    func forgets() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let database = try SQLiteStatusStore(directory: directory.path)
        let cache = CachingStatusStore(database)
        for service in ["a", "b", "c"] {
            try await cache.record(
                ReconcileAttempt(
                    service: service, revision: "r1", result: .succeeded, startedAt: Date(timeIntervalSince1970: 1),
                    durationSeconds: 1))
        }
        // Loaded into memory first, so a cache that kept them would still answer.
        #expect(try await cache.statuses().map(\.service) == ["a", "b", "c"])
        #expect(try await cache.retainOnly(["a", "b"]) == ["c"])
        #expect(try await cache.status(of: "c") == nil)
        try await cache.forget(service: "b")
        #expect(try await cache.statuses().map(\.service) == ["a"])
        #expect(try await database.statuses().map(\.service) == ["a"])
    }
}
