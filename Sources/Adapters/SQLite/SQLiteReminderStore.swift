import EvidenceCore
import Foundation
import NIS2Reporting

/// Deadline reminders in a SQLite file, so a restart loses none and fires each once.
///
/// Guarantees: `claim` is one conditional UPDATE (`WHERE fired_at IS NULL`), so of two
/// schedulers or two runs only one fires a reminder; rows of fired reminders are kept as
/// history and never re-armed by `replacePending`. Refuses a file that is not a SQLite database.
public actor SQLiteReminderStore: ReminderStore {
    private let db: SQLiteDatabase

    public init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute("""
            CREATE TABLE IF NOT EXISTS reminders (
              id TEXT PRIMARY KEY, tenant TEXT NOT NULL, incident TEXT NOT NULL, kind TEXT NOT NULL,
              due REAL NOT NULL, offset REAL NOT NULL, fire_at REAL NOT NULL, fired_at REAL)
            """)
        try db.execute("CREATE INDEX IF NOT EXISTS reminders_pending ON reminders(fired_at, fire_at)")
    }

    public func replacePending(tenant: TenantID, incidentID: String, with reminders: [Reminder]) throws {
        try db.transaction {
            try db.run("DELETE FROM reminders WHERE tenant = ? AND incident = ? AND fired_at IS NULL", [.text(tenant.rawValue), .text(incidentID)])
            for r in reminders {
                try db.run("INSERT OR IGNORE INTO reminders (id, tenant, incident, kind, due, offset, fire_at, fired_at) VALUES (?,?,?,?,?,?,?,NULL)",
                           [.text(r.id), .text(tenant.rawValue), .text(incidentID), .text(r.kind.rawValue),
                            .real(r.due.timeIntervalSince1970), .real(r.offset), .real(r.fireAt.timeIntervalSince1970)])
            }
        }
    }

    public func pending(until: Date) throws -> [Reminder] {
        try rows("WHERE fired_at IS NULL AND fire_at <= ? ORDER BY fire_at, id", [.real(until.timeIntervalSince1970)])
    }

    public func claim(_ id: String, at: Date) throws -> Bool {
        try db.run("UPDATE reminders SET fired_at = ? WHERE id = ? AND fired_at IS NULL", [.real(at.timeIntervalSince1970), .text(id)]).changes == 1
    }

    public func release(_ id: String) throws {
        try db.run("UPDATE reminders SET fired_at = NULL WHERE id = ?", [.text(id)])
    }

    public func reminders(tenant: TenantID, incidentID: String) throws -> [Reminder] {
        try rows("WHERE tenant = ? AND incident = ? ORDER BY fire_at, id", [.text(tenant.rawValue), .text(incidentID)])
    }

    public func nextFireAt() throws -> Date? {
        try db.run("SELECT MIN(fire_at) FROM reminders WHERE fired_at IS NULL").rows.first?.first?.real.map { Date(timeIntervalSince1970: $0) }
    }

    private func rows(_ clause: String, _ params: [SQLiteDatabase.Value]) throws -> [Reminder] {
        try db.run("SELECT tenant, incident, kind, due, offset, fired_at FROM reminders " + clause, params).rows.map { r in
            guard let t = r[0].text, let tenant = try? TenantID(t), let inc = r[1].text, let k = r[2].text.flatMap(DeadlineKind.init(rawValue:)),
                  let due = r[3].real, let off = r[4].real else {
                throw EvidenceError(.notOurStore, "reminder row in \(db.path) is damaged; restore the file from backup")
            }
            return Reminder(tenant: tenant, incidentID: inc, kind: k, due: Date(timeIntervalSince1970: due), offset: off,
                            firedAt: r[5].real.map { Date(timeIntervalSince1970: $0) })
        }
    }
}
