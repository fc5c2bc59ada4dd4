import Foundation
import GRDB
import Testing
import WherryController
import WherryModel
import WherryTesting

/// The status store's rules, run against both stores: SQLite (a real file in a temp dir) and in memory.
@Suite("Status store")
struct StatusStoreTests {
    enum Kind: String, CaseIterable { case sqlite, memory }

    private func withStore(
        _ kind: Kind, _ body: (any StatusStore, TemporaryDirectory) async throws -> Void
    )
        async throws
    {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let store: any StatusStore =
            kind == .sqlite ? try SQLiteStatusStore(directory: directory.path) : InMemoryStatusStore()
        try await body(store, directory)
    }

    private func attempt(
        _ revision: String, _ result: ReconcileResult, error: String? = nil, at seconds: Double, service: String = "web"
    ) -> ReconcileAttempt {
        ReconcileAttempt(
            service: service, revision: revision, treeHash: "tree-\(revision)", result: result, error: error,
            counts: result == .succeeded ? [.created: 2, .unchanged: 3] : [:],
            startedAt: Date(timeIntervalSince1970: seconds), durationSeconds: 0.5)
    }

    @Test("a failure never moves the applied revision; a success does", arguments: Kind.allCases)
    func appliedRevision(kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            try await store.record(attempt("aaa", .succeeded, at: 100))
            try await store.record(attempt("bbb", .failed, error: "Deployment/web/api: invalid", at: 200))
            let status = try #require(try await store.status(of: "web"))
            #expect(status.lastAppliedRevision == "aaa")
            #expect(status.lastAppliedTreeHash == "tree-aaa")
            #expect(status.lastAppliedAt == Date(timeIntervalSince1970: 100))
            #expect(status.lastAttemptAt == Date(timeIntervalSince1970: 200))
            #expect(status.lastResult == .failed)
            #expect(status.lastError == "Deployment/web/api: invalid")
            try await store.record(attempt("bbb", .succeeded, at: 300))
            let fixed = try #require(try await store.status(of: "web"))
            #expect(fixed.lastAppliedRevision == "bbb")
            #expect(fixed.lastError == nil)
            #expect(fixed.counts == [.created: 2, .unchanged: 3])
            #expect(try await store.status(of: "other") == nil)
        }
    }

    @Test("history repeats collapse into one counted line, newest first, at most 20", arguments: Kind.allCases)
    func history(kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            for second in 0..<5 { try await store.record(attempt("aaa", .failed, error: "boom", at: Double(second))) }
            try await store.record(attempt("aaa", .succeeded, at: 10))
            let lines = try await store.history(of: "web")
            #expect(lines.map(\.result) == [.succeeded, .failed])
            #expect(lines[1].count == 5)
            #expect(lines[1].firstAt == Date(timeIntervalSince1970: 0))
            #expect(lines[1].lastAt == Date(timeIntervalSince1970: 4))
            for index in 0..<30 { try await store.record(attempt("c\(index)", .succeeded, at: Double(100 + index))) }
            let kept = try await store.history(of: "web")
            #expect(kept.count == StatusRules.historyLimit)
            #expect(kept.first?.revision == "c29")
            #expect(kept.last?.revision == "c10")
        }
    }

    @Test("statuses lists every service by name")
    func statuses() async throws {
        try await withStore(.sqlite) { store, _ in
            try await store.record(attempt("a", .succeeded, at: 1, service: "web"))
            try await store.record(attempt("b", .failed, error: "x", at: 2, service: "api"))
            #expect(try await store.statuses().map(\.service) == ["api", "web"])
        }
    }

    @Test(
        "retainOnly removes status, history and inventory of every other service; forget removes one",
        arguments: Kind.allCases)
    func forgetsRemovedServices(kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let inventory = Inventory.parse("v1 ConfigMap default/a\n").0
            #expect(inventory.count == 1)
            for service in ["kept", "orphaned", "removed", "gone"] {
                try await store.record(attempt("aaa", .succeeded, at: 1, service: service))
                try await store.record(attempt("bbb", .failed, error: "x", at: 2, service: service))
                try await store.saveInventory(inventory, of: service)
            }
            // Rows in one table only are found too: an inventory copy without a status.
            try await store.saveInventory(inventory, of: "inventory-only")
            let removed = try await store.retainOnly(["kept", "orphaned", "not-stored"])
            #expect(removed == ["gone", "inventory-only", "removed"])
            #expect(try await store.statuses().map(\.service) == ["kept", "orphaned"])
            #expect(try await store.inventoryServices() == ["kept", "orphaned"])
            for service in ["gone", "removed", "inventory-only"] {
                #expect(try await store.history(of: service).isEmpty)
                #expect(try await store.inventory(of: service) == nil)
                #expect(try await store.status(of: service) == nil)
            }
            #expect(try await store.history(of: "orphaned").count == 2)
            #expect(try await store.inventory(of: "orphaned") == inventory)
            // Once `wherry prune --service` emptied the orphan, its rows go too.
            try await store.forget(service: "orphaned")
            #expect(try await store.statuses().map(\.service) == ["kept"])
            #expect(try await store.history(of: "orphaned").isEmpty)
            #expect(try await store.inventory(of: "orphaned") == nil)
            #expect(try await store.retainOnly(["kept"]).isEmpty)
            #expect(try await store.history(of: "kept").count == 2)
        }
    }

    @Test(
        "a check that wrote nothing moves the last check, never the last write; a drift correction is its own line",
        arguments: Kind.allCases)
    func lastWriteAndDriftLines(kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            try await store.record(attempt("aaa", .succeeded, at: 100))
            for second in [200.0, 300] {
                try await store.record(
                    ReconcileAttempt(
                        service: "web", revision: "aaa", result: .succeeded, counts: [.unchanged: 5],
                        startedAt: Date(timeIntervalSince1970: second), durationSeconds: 0.1))
            }
            var status = try #require(try await store.status(of: "web"))
            #expect(status.lastWriteAt == Date(timeIntervalSince1970: 100))
            #expect(status.lastWriteRevision == "aaa")
            #expect(status.lastAppliedAt == Date(timeIntervalSince1970: 300))
            try await store.record(
                ReconcileAttempt(
                    service: "web", revision: "aaa", result: .succeeded, counts: [.unchanged: 5],
                    startedAt: Date(timeIntervalSince1970: 400), durationSeconds: 0.1,
                    drifted: ["Deployment/web/api"]))
            try await store.record(
                ReconcileAttempt(
                    service: "web", revision: "aaa", result: .succeeded, counts: [.unchanged: 5],
                    startedAt: Date(timeIntervalSince1970: 500), durationSeconds: 0.1))
            status = try #require(try await store.status(of: "web"))
            #expect(status.lastWriteAt == Date(timeIntervalSince1970: 400))
            let lines = try await store.history(of: "web")
            // Newest first: the check after the correction, the correction alone, the unchanged checks before it, and
            // the first apply (it created objects) on a line of its own.
            #expect(lines.map(\.count) == [1, 1, 2, 1])
            #expect(lines.map(\.drifted) == [[], ["Deployment/web/api"], [], []])
            #expect(lines.last?.counts == [.created: 2, .unchanged: 3])
        }
    }

    @Test("the last write survives reopening the file")
    func lastWriteSurvivesRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        do {
            let store = try SQLiteStatusStore(directory: directory.path)
            try await store.record(attempt("aaa", .succeeded, at: 100))
            try await store.record(
                ReconcileAttempt(
                    service: "web", revision: "aaa", result: .succeeded, counts: [.unchanged: 1],
                    startedAt: Date(timeIntervalSince1970: 200), durationSeconds: 0.1, drifted: ["ConfigMap/web/a"]))
        }
        let reopened = try SQLiteStatusStore(directory: directory.path)
        #expect(try await reopened.status(of: "web")?.lastWriteAt == Date(timeIntervalSince1970: 200))
        #expect(try await reopened.history(of: "web").first?.drifted == ["ConfigMap/web/a"])
    }

    @Test("a database an older Wherry wrote (before the last-write and suspension migrations) opens with everything")
    func migratesAnOlderDatabase() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        do {
            let store = try SQLiteStatusStore(directory: directory.path)
            try await store.record(attempt("aaa", .succeeded, at: 100))
            try await store.record(attempt("bbb", .failed, error: "boom", at: 200))
        }
        // Back to the schema before the 17a and 17b migrations: their columns, table and records gone.
        let queue = try DatabaseQueue(path: directory.path + "/" + SQLiteStatusStore.fileName)
        try await queue.write { db in
            try db.execute(sql: "ALTER TABLE service_status DROP COLUMN last_write_at")
            try db.execute(sql: "ALTER TABLE service_status DROP COLUMN last_write_revision")
            try db.execute(sql: "ALTER TABLE history DROP COLUMN drifted")
            try db.execute(sql: "DROP TABLE suspension")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE '%17a%' OR identifier LIKE '%17b%'")
        }
        try queue.close()

        let reopened = try SQLiteStatusStore(directory: directory.path)
        let status = try #require(try await reopened.status(of: "web"))
        #expect(status.lastAppliedRevision == "aaa")
        #expect(status.lastResult == .failed && status.lastError == "boom")
        // Before the migration every success counted as a write: the last success is the best estimate.
        #expect(status.lastWriteAt == Date(timeIntervalSince1970: 100) && status.lastWriteRevision == "aaa")
        #expect(try await reopened.history(of: "web").map(\.revision) == ["bbb", "aaa"])
        try await reopened.record(attempt("ccc", .succeeded, at: 300))
        #expect(try await reopened.status(of: "web")?.lastWriteRevision == "ccc")
    }

    @Test("what was recorded survives reopening the file")
    func survivesRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        do {
            let store = try SQLiteStatusStore(directory: directory.path)
            try await store.record(attempt("aaa", .succeeded, at: 100))
        }
        let reopened = try SQLiteStatusStore(directory: directory.path)
        #expect(try await reopened.status(of: "web")?.lastAppliedRevision == "aaa")
        #expect(try await reopened.history(of: "web").count == 1)
    }

    @Test("a runtime suspension is kept across reopening, removed on resume and with the service's state")
    func suspensionSurvivesRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        do {
            let store = try SQLiteStatusStore(directory: directory.path)
            try await store.setSuspended("web", since: Date(timeIntervalSince1970: 1000))
            try await store.setSuspended("api", since: Date(timeIntervalSince1970: 2000))
        }
        let reopened = try SQLiteStatusStore(directory: directory.path)
        #expect(
            try await reopened.suspensions()
                == ["web": Date(timeIntervalSince1970: 1000), "api": Date(timeIntervalSince1970: 2000)])
        try await reopened.setSuspended("web", since: nil)
        #expect(try await reopened.suspensions().keys.sorted() == ["api"])
        #expect(try await reopened.retainOnly(["web"]) == ["api"])
        #expect(try await reopened.suspensions().isEmpty)
    }

    @Test("a file that is not a database is a clear error at open, naming the file and what to do")
    func corrupt() throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let path = try directory.write(SQLiteStatusStore.fileName, String(repeating: "not a database ", count: 400))
        let error = try #require(throws: StatusStoreError.self) { try SQLiteStatusStore(path: path) }
        #expect(error.message.contains(path))
        #expect(error.message.contains("is not a SQLite database or is damaged; move it away"))
    }

    @Test("a state directory that cannot be written is a clear error at open")
    func unwritable() throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let blocker = try directory.write("file", "a file where a directory should be")
        let error = try #require(throws: StatusStoreError.self) {
            try SQLiteStatusStore(directory: blocker + "/state")
        }
        #expect(error.message.contains("cannot be created"))
        #expect(error.message.contains("--state-dir"))
    }
}
