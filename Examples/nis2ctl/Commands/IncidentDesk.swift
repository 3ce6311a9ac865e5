import EvidenceCore
import EvidenceSQLite
import Foundation
import NIS2Reporting

/// Composition of the incident lifecycle for the CLI: the tenant's evidence log in the store
/// folder, incident state and reminders in `DIR/tenants/<tenant>/incidents.sqlite`.
struct IncidentDesk {
    let store: EvidenceStore
    let lifecycle: IncidentLifecycle
    let scheduler: ReminderScheduler
    let reminders: SQLiteReminderStore
    let tenant: TenantID

    static func open(_ a: ParsedArguments) throws -> IncidentDesk {
        let store = try StoreAccess.openForWriting(try a.required("store"))
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        let path = store.root + "/tenants/\(tenant.rawValue)/incidents.sqlite"
        let clock = SystemWallClock()
        let reminders = try SQLiteReminderStore(path: path)
        let scheduler = ReminderScheduler(store: reminders, notifier: ConsoleNotifier(), clock: clock)
        let lifecycle = IncidentLifecycle(tenant: tenant, evidence: store, state: try SQLiteIncidentStateStore(path: path),
                                          clock: clock, scheduler: scheduler)
        return IncidentDesk(store: store, lifecycle: lifecycle, scheduler: scheduler, reminders: reminders, tenant: tenant)
    }

    /// Who acts: `--by`, else the login name of the operator.
    static func actor(_ a: ParsedArguments) -> String {
        a.value("by") ?? "local#" + (ProcessInfo.processInfo.environment["USER"] ?? "operator")
    }

    /// Runs a command body; errors of the reporting library become exit 2 (input or state) or 3 (storage).
    static func run(_ body: () async throws -> ExitCode) async throws -> ExitCode {
        do { return try await body() } catch let e as ReportingError {
            Console.err(e.description)
            return e.code == .storage ? .failure : .usage
        }
    }

    static func time(_ a: ParsedArguments, _ name: String) throws -> Date? {
        guard let v = a.value(name) else { return nil }
        do { return try Timestamp.parse(v) } catch let e as EvidenceError { throw UsageError("--\(name): \(e.message)") }
    }

    static func jsonFile(_ path: String, what: String) throws -> JSONValue {
        guard let d = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(what) file \(path)") }
        do { return try JSONParser.parse(d, limits: JSONLimits(maxBytes: 4 << 20)) } catch let e as EvidenceError {
            throw UsageError("\(what) file \(path): \(e.message)")
        }
    }

    /// Reads a facts file; `occurredAt`/`awareAt` default to the detection time until known.
    static func facts(_ path: String, id: String, detectedAt: Date) throws -> IncidentFacts {
        guard case .object(var o) = try jsonFile(path, what: "facts") else { throw UsageError("facts file \(path) must hold a JSON object") }
        if o["occurredAt"] == nil { o["occurredAt"] = .string(Timestamp.format(detectedAt)) }
        if o["awareAt"] == nil { o["awareAt"] = .string(Timestamp.format(detectedAt)) }
        return try IncidentFacts(json: .object(o), caseID: id)
    }

    static func narrative(_ path: String) throws -> IncidentNarrative {
        guard let d = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read narrative file \(path)") }
        // A misspelled item must not vanish silently from a regulatory report.
        guard case .object(let o) = try JSONParser.parse(d, limits: JSONLimits(maxBytes: 1 << 20)) else {
            throw UsageError("narrative file \(path) must hold a JSON object")
        }
        let known = Set(Mirror(reflecting: IncidentNarrative()).children.compactMap(\.label))
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw UsageError("narrative file \(path): unknown item '\(unknown)'; known items: \(known.sorted().joined(separator: ", "))")
        }
        do { return try JSONDecoder().decode(IncidentNarrative.self, from: d) } catch {
            throw UsageError("narrative file \(path) is not a report narrative: \(error)")
        }
    }
}

/// Prints reminders on standard output (the CLI's notifier; a service would mail or page).
struct ConsoleNotifier: Notifier {
    func notify(_ r: Reminder) async throws {
        let when = r.offset < 0 ? "due in \(figureHours(-r.offset))" : r.offset == 0 ? "due now" : "overdue by \(figureHours(r.offset))"
        Console.out("reminder \(r.tenant)/\(r.incidentID): \(r.kind.rawValue) \(when) (deadline \(Timestamp.format(r.due)))")
    }
    private func figureHours(_ s: Double) -> String { String(format: "%.1f h", s / 3600) }
}
