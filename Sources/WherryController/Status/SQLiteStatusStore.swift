public import Foundation
import GRDB
public import WherryModel

/// A ``StatusStore`` in SQLite (GRDB): `<state_dir>/wherry.sqlite`, in WAL mode, with named migrations. Opening it
/// checks that it can be read and written, so a damaged or read-only file is a clear error at start, not a crash
/// in the middle of a run.
public final class SQLiteStatusStore: StatusStore {
    /// The database file.
    public let path: String
    private let pool: DatabasePool
    /// Records of many services at once share a transaction.
    private let records: GroupCommit<ReconcileAttempt, StatusStoreError>

    /// The file name inside the state directory.
    public static let fileName = "wherry.sqlite"

    /// Opens (creating when missing) the store in `directory`.
    public convenience init(directory: String) throws(StatusStoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StatusStoreError(
                "state directory \(directory) cannot be created (\(error.localizedDescription)); pass a writable "
                    + "--state-dir")
        }
        try self.init(path: directory + "/" + Self.fileName)
    }

    /// Opens (creating when missing) the store at `path` and brings its schema up to date.
    public init(path: String) throws(StatusStoreError) {
        self.path = path
        do {
            let pool = try DatabasePool(path: path)
            self.pool = pool
            records = GroupCommit { attempts in await Self.record(attempts, pool: pool, path: path) }
            try Self.migrator.migrate(pool)
            // A write proves the file is writable now, not at the first reconcile.
            try pool.write { db in try db.execute(sql: "UPDATE wherry_meta SET opened_at = ?", arguments: [Date()]) }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    /// The schema, one named migration per change; applied migrations are never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: service status and history") { db in
            try db.create(table: "wherry_meta") { table in
                table.column("opened_at", .datetime)
            }
            try db.execute(sql: "INSERT INTO wherry_meta (opened_at) VALUES (NULL)")
            try db.create(table: "service_status") { table in
                table.primaryKey("service", .text)
                table.column("last_applied_revision", .text)
                table.column("last_applied_tree", .text)
                table.column("last_applied_at", .double)
                table.column("last_attempt_at", .double).notNull()
                table.column("last_result", .text).notNull()
                table.column("last_error", .text)
                table.column("counts", .text).notNull()
                table.column("duration_seconds", .double).notNull()
            }
            try db.create(table: "history") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("service", .text).notNull().indexed()
                table.column("revision", .text).notNull()
                table.column("result", .text).notNull()
                table.column("error", .text)
                table.column("first_at", .double).notNull()
                table.column("last_at", .double).notNull()
                table.column("count", .integer).notNull()
                table.column("counts", .text).notNull()
                table.column("duration_seconds", .double).notNull()
            }
        }
        migrator.registerMigration("v2: inventories and drift") { db in
            try db.create(table: "inventory") { table in
                table.primaryKey("service", .text)
                table.column("entries", .text).notNull()
                table.column("updated_at", .double).notNull()
            }
            try db.alter(table: "service_status") { table in
                table.add(column: "drift_corrections", .integer).notNull().defaults(to: 0)
                table.add(column: "last_drift", .text).notNull().defaults(to: "")
                table.add(column: "last_drift_at", .double)
            }
        }
        migrator.registerMigration("17b: last write apart from last check; drift corrections in history") { db in
            try db.alter(table: "service_status") { table in
                table.add(column: "last_write_at", .double)
                table.add(column: "last_write_revision", .text)
            }
            try db.alter(table: "history") { table in
                table.add(column: "drifted", .text).notNull().defaults(to: "")
            }
            // Before this migration every success counted as a write: the best estimate of the last write.
            try db.execute(
                sql: "UPDATE service_status SET last_write_at = last_applied_at, "
                    + "last_write_revision = last_applied_revision")
        }
        migrator.registerMigration("v3 17a: runtime suspension") { db in
            try db.create(table: "suspension") { table in
                table.primaryKey("service", .text)
                table.column("suspended_at", .double).notNull()
            }
        }
        return migrator
    }

    public func record(_ attempt: ReconcileAttempt) async throws(StatusStoreError) {
        try await records.submit(attempt).get()
    }

    /// Records attempts in one transaction (see ``GroupCommit``); when the batch fails, each is written alone, so
    /// one bad record fails only its own caller.
    private static func record(
        _ attempts: [ReconcileAttempt], pool: DatabasePool, path: String
    ) async -> [Result<Void, StatusStoreError>] {
        do {
            try await pool.write { db in
                for attempt in attempts { try Self.record(attempt, in: db) }
            }
            return attempts.map { _ in .success(()) }
        } catch {
            guard attempts.count > 1 else { return [.failure(Self.explain(error, path: path))] }
        }
        var outcomes: [Result<Void, StatusStoreError>] = []
        for attempt in attempts {
            do {
                try await pool.write { db in try Self.record(attempt, in: db) }
                outcomes.append(.success(()))
            } catch {
                outcomes.append(.failure(Self.explain(error, path: path)))
            }
        }
        return outcomes
    }

    /// Records one attempt: the service's status, and its history (a repeat of the newest line counts there).
    private static func record(_ attempt: ReconcileAttempt, in db: Database) throws {
        let previous = try Self.status(of: attempt.service, in: db)
        let status = StatusRules.status(after: attempt, previous: previous)
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO service_status (service, last_applied_revision, last_applied_tree,
                    last_applied_at, last_attempt_at, last_result, last_error, counts, duration_seconds,
                    drift_corrections, last_drift, last_drift_at, last_write_at, last_write_revision)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                status.service, status.lastAppliedRevision, status.lastAppliedTreeHash,
                status.lastAppliedAt?.timeIntervalSince1970, status.lastAttemptAt.timeIntervalSince1970,
                status.lastResult.rawValue, status.lastError, ApplyAction.json(status.counts).jsonString(),
                status.durationSeconds, status.driftCorrections, status.lastDrift.joined(separator: "\n"),
                status.lastDriftAt?.timeIntervalSince1970, status.lastWriteAt?.timeIntervalSince1970,
                status.lastWriteRevision,
            ])
        let newest = try Row.fetchOne(
            db, sql: "SELECT * FROM history WHERE service = ? ORDER BY id DESC LIMIT 1",
            arguments: [attempt.service])
        if let newest, StatusRules.repeats(attempt, Self.entry(newest)) {
            try db.execute(
                sql: """
                    UPDATE history SET count = count + 1, last_at = ?, counts = ?, duration_seconds = ?
                    WHERE id = ?
                    """,
                arguments: [
                    attempt.startedAt.timeIntervalSince1970, ApplyAction.json(attempt.counts).jsonString(),
                    attempt.durationSeconds, newest["id"] as Int64,
                ])
        } else {
            try db.execute(
                sql: """
                    INSERT INTO history (service, revision, result, error, first_at, last_at, count, counts,
                        duration_seconds, drifted)
                    VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
                    """,
                arguments: [
                    attempt.service, attempt.revision, attempt.result.rawValue, attempt.error,
                    attempt.startedAt.timeIntervalSince1970, attempt.startedAt.timeIntervalSince1970,
                    ApplyAction.json(attempt.counts).jsonString(), attempt.durationSeconds,
                    attempt.drifted.prefix(StatusRules.driftListLimit).joined(separator: "\n"),
                ])
            try db.execute(
                sql: """
                    DELETE FROM history WHERE service = ? AND id NOT IN
                        (SELECT id FROM history WHERE service = ? ORDER BY id DESC LIMIT ?)
                    """,
                arguments: [attempt.service, attempt.service, StatusRules.historyLimit])
        }
    }

    public func status(of service: String) async throws(StatusStoreError) -> ServiceStatus? {
        do {
            return try await pool.read { db in try Self.status(of: service, in: db) }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func statuses() async throws(StatusStoreError) -> [ServiceStatus] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM service_status ORDER BY service").map(Self.status)
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func history(of service: String) async throws(StatusStoreError) -> [HistoryEntry] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM history WHERE service = ? ORDER BY id DESC", arguments: [service]
                ).map(Self.entry)
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func inventory(of service: String) async throws(StatusStoreError) -> Inventory? {
        do {
            return try await pool.read { db in
                try String.fetchOne(db, sql: "SELECT entries FROM inventory WHERE service = ?", arguments: [service])
            }.map { Inventory.parse($0).0 }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func saveInventory(_ inventory: Inventory, of service: String) async throws(StatusStoreError) {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO inventory (service, entries, updated_at) VALUES (?, ?, ?)",
                    arguments: [service, inventory.text, Date().timeIntervalSince1970])
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func inventoryServices() async throws(StatusStoreError) -> [String] {
        do {
            return try await pool.read { db in
                try String.fetchAll(db, sql: "SELECT service FROM inventory ORDER BY service")
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func suspensions() async throws(StatusStoreError) -> [String: Date] {
        do {
            return try await pool.read { db in
                var suspended: [String: Date] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT service, suspended_at FROM suspension") {
                    suspended[row["service"]] = Date(timeIntervalSince1970: row["suspended_at"])
                }
                return suspended
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func setSuspended(_ service: String, since date: Date?) async throws(StatusStoreError) {
        do {
            try await pool.write { db in
                if let date {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO suspension (service, suspended_at) VALUES (?, ?)",
                        arguments: [service, date.timeIntervalSince1970])
                } else {
                    try db.execute(sql: "DELETE FROM suspension WHERE service = ?", arguments: [service])
                }
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    public func forget(service: String) async throws(StatusStoreError) {
        do {
            try await pool.write { db in try Self.delete(service, in: db) }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    @discardableResult
    public func retainOnly(_ services: Set<String>) async throws(StatusStoreError) -> [String] {
        do {
            return try await pool.write { db in
                let removed = try Set(String.fetchAll(db, sql: Self.everyService)).subtracting(services).sorted()
                for service in removed { try Self.delete(service, in: db) }
                return removed
            }
        } catch {
            throw Self.explain(error, path: path)
        }
    }

    /// Every service any table holds a row of.
    private static let everyService = """
        SELECT service FROM service_status UNION SELECT service FROM history UNION SELECT service FROM inventory
        UNION SELECT service FROM suspension
        """

    /// Deletes a service's rows from every table.
    private static func delete(_ service: String, in db: Database) throws {
        for table in ["service_status", "history", "inventory", "suspension"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE service = ?", arguments: [service])
        }
    }

    // MARK: - Rows

    private static func status(of service: String, in db: Database) throws -> ServiceStatus? {
        try Row.fetchOne(db, sql: "SELECT * FROM service_status WHERE service = ?", arguments: [service]).map(status)
    }

    private static func status(_ row: Row) -> ServiceStatus {
        var status = ServiceStatus(
            service: row["service"], lastAppliedRevision: row["last_applied_revision"],
            lastAppliedTreeHash: row["last_applied_tree"],
            lastAppliedAt: (row["last_applied_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastAttemptAt: Date(timeIntervalSince1970: row["last_attempt_at"]),
            lastResult: ReconcileResult(rawValue: row["last_result"]) ?? .failed, lastError: row["last_error"],
            counts: counts(row),
            durationSeconds: row["duration_seconds"])
        status.driftCorrections = row["drift_corrections"]
        status.lastDrift = (row["last_drift"] as String).split(separator: "\n").map(String.init)
        status.lastDriftAt = (row["last_drift_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        status.lastWriteAt = (row["last_write_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        status.lastWriteRevision = row["last_write_revision"]
        return status
    }

    private static func entry(_ row: Row) -> HistoryEntry {
        HistoryEntry(
            revision: row["revision"], result: ReconcileResult(rawValue: row["result"]) ?? .failed,
            error: row["error"], firstAt: Date(timeIntervalSince1970: row["first_at"]),
            lastAt: Date(timeIntervalSince1970: row["last_at"]), count: row["count"],
            counts: counts(row),
            durationSeconds: row["duration_seconds"],
            drifted: (row["drifted"] as String).split(separator: "\n").map(String.init))
    }

    /// The `counts` column: a JSON object of counts per action.
    private static func counts(_ row: Row) -> [ApplyAction: Int] {
        ApplyAction.counts(fromJSON: try? JSONValue.parse(row["counts"] as String))
    }

    /// What a database failure means for the user, with the file and what to do.
    static func explain(_ error: any Error, path: String) -> StatusStoreError {
        guard let database = error as? DatabaseError else {
            return StatusStoreError("state database \(path): \(error)")
        }
        switch database.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return StatusStoreError(
                "state database \(path) is not a SQLite database or is damaged; move it away (Wherry then starts "
                    + "with no history and re-applies every service once) or restore it from a backup")
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return StatusStoreError(
                "state database \(path) cannot be opened for writing; check that the state directory exists and is "
                    + "writable by this user, or pass another --state-dir")
        case .SQLITE_FULL:
            return StatusStoreError("state database \(path): the disk is full; free space for the state directory")
        default:
            return StatusStoreError("state database \(path): \(database.message ?? "\(database.resultCode)")")
        }
    }
}
