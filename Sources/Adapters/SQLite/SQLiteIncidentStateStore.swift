import EvidenceCore
import Foundation
import NIS2Reporting

/// The current state of incidents in a SQLite file (the evidence log keeps their history).
///
/// Guarantees: a save is one committed row per (tenant, incident) and survives a crash; rows of
/// other tenants are never returned. Refuses a row it cannot decode, naming the incident.
public actor SQLiteIncidentStateStore: IncidentStateStore {
    private let db: SQLiteDatabase

    public init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE IF NOT EXISTS incidents (tenant TEXT NOT NULL, id TEXT NOT NULL, detected_at REAL NOT NULL, state TEXT NOT NULL, PRIMARY KEY (tenant, id))")
    }

    public func load(tenant: TenantID, id: String) throws -> Incident? {
        try decode(db.run("SELECT id, state FROM incidents WHERE tenant = ? AND id = ?", [.text(tenant.rawValue), .text(id)]).rows).first
    }

    public func save(_ incident: Incident) throws {
        let json = String(decoding: try JSONEncoder().encode(incident), as: UTF8.self)
        try db.run("INSERT INTO incidents (tenant, id, detected_at, state) VALUES (?,?,?,?) ON CONFLICT(tenant, id) DO UPDATE SET state = excluded.state",
                   [.text(incident.tenant.rawValue), .text(incident.id), .real(incident.detectedAt.timeIntervalSince1970), .text(json)])
    }

    public func list(tenant: TenantID) throws -> [Incident] {
        try decode(db.run("SELECT id, state FROM incidents WHERE tenant = ? ORDER BY detected_at, id", [.text(tenant.rawValue)]).rows)
    }

    private func decode(_ rows: [[SQLiteDatabase.Value]]) throws -> [Incident] {
        try rows.map { r in
            do { return try JSONDecoder().decode(Incident.self, from: Data((r[1].text ?? "").utf8)) } catch {
                throw ReportingError(.storage, caseID: r[0].text, "incident state in \(db.path) cannot be read (\(error)); restore the file from backup or rebuild it from the evidence log")
            }
        }
    }
}
