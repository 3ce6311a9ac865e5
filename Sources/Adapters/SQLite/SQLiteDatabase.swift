import CSQLite
import EvidenceCore
import Foundation

/// One SQLite database file, opened in WAL mode with full synchronous commits, so a committed
/// write survives a crash or power loss.
///
/// Guarantees: every statement is prepared with bound parameters (no SQL built from values);
/// errors carry SQLite's message and the file path. Not thread-safe by itself: it is owned by
/// exactly one actor (the stores in this module), which serialises every call.
final class SQLiteDatabase {
    enum Value { case text(String), real(Double), integer(Int64), null }

    let path: String
    private var db: OpaquePointer?

    init(path: String) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(rc)"
            sqlite3_close(db)
            throw EvidenceError(.io, "cannot open SQLite state \(path): \(msg); check the folder exists and is writable")
        }
        sqlite3_busy_timeout(db, 5000)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
    }

    deinit { sqlite3_close_v2(db) }

    func fail(_ what: String) -> EvidenceError {
        EvidenceError(.io, "SQLite state \(path): \(what): \(String(cString: sqlite3_errmsg(db)))")
    }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw fail("'\(sql.prefix(60))' failed") }
    }

    /// Runs a statement with parameters; returns the rows (each a column array) and the number of changed rows.
    @discardableResult
    func run(_ sql: String, _ params: [Value] = []) throws -> (rows: [[Value]], changes: Int) {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw fail("cannot prepare '\(sql.prefix(60))'") }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in params.enumerated() {
            let idx = Int32(i + 1)
            switch p {
            case .text(let s): sqlite3_bind_text(stmt, idx, s, -1, transient)
            case .real(let d): sqlite3_bind_double(stmt, idx, d)
            case .integer(let n): sqlite3_bind_int64(stmt, idx, n)
            case .null: sqlite3_bind_null(stmt, idx)
            }
        }
        var rows: [[Value]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw fail("'\(sql.prefix(60))' failed") }
            var row: [Value] = []
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_NULL: row.append(.null)
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(stmt, c)))
                default: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                }
            }
            rows.append(row)
        }
        return (rows, Int(sqlite3_changes(db)))
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do { let r = try body(); try execute("COMMIT"); return r } catch { try? execute("ROLLBACK"); throw error }
    }
}

extension SQLiteDatabase.Value {
    var text: String? { if case .text(let s) = self { return s }; return nil }
    var real: Double? {
        switch self { case .real(let d): return d; case .integer(let n): return Double(n); default: return nil }
    }
}
