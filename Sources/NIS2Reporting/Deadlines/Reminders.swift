import EvidenceCore
import Foundation

/// A persisted timer: remind someone that a deadline of an incident is near, due or overdue.
///
/// Guarantees: the id is derived from tenant, incident, deadline kind, offset and due instant,
/// so scheduling the same deadline twice yields the same reminder, and a deadline that moves
/// yields a new one.
public struct Reminder: Hashable, Sendable, Codable {
    public let tenant: TenantID
    public let incidentID: String
    public let kind: DeadlineKind
    public let due: Date
    /// Seconds relative to `due`: negative before, 0 at, positive after (overdue).
    public let offset: Double
    public var firedAt: Date?

    public init(tenant: TenantID, incidentID: String, kind: DeadlineKind, due: Date, offset: Double, firedAt: Date? = nil) {
        self.tenant = tenant; self.incidentID = incidentID; self.kind = kind; self.due = due; self.offset = offset; self.firedAt = firedAt
    }

    public var fireAt: Date { due + offset }
    public var id: String { "\(tenant.rawValue)/\(incidentID)/\(kind.rawValue)/\(figure(offset))/\(figure(due.timeIntervalSince1970))" }
}

/// When reminders fire, relative to each deadline. [I] configurable; the default warns 12 h
/// and 2 h before, at the deadline, and 1 h after it.
public struct ReminderPolicy: Sendable {
    public var offsets: [Double]
    public init(offsets: [Double] = [-12 * 3600, -2 * 3600, 0, 3600]) { self.offsets = offsets.sorted() }
    public static let standard = ReminderPolicy()
}

/// Delivers a reminder (mail, chat, pager). Implementations should be idempotent per
/// `Reminder.id` where they can; the scheduler calls `notify` once per reminder unless it throws.
public protocol Notifier: Sendable {
    func notify(_ reminder: Reminder) async throws
}

/// Where reminders persist. Every implementation must pass the same behaviour: `claim` marks a
/// reminder fired only if it was not fired yet (so two schedulers, or a restart, never fire
/// one twice), `release` undoes a claim after a failed delivery, and `replacePending` swaps
/// the unfired reminders of an incident while keeping the fired ones as history.
public protocol ReminderStore: Sendable {
    func replacePending(tenant: TenantID, incidentID: String, with reminders: [Reminder]) async throws
    /// Unfired reminders with `fireAt <= until`, earliest first (ties by id).
    func pending(until: Date) async throws -> [Reminder]
    func claim(_ id: String, at: Date) async throws -> Bool
    func release(_ id: String) async throws
    /// Every reminder of an incident, fired or not, earliest first.
    func reminders(tenant: TenantID, incidentID: String) async throws -> [Reminder]
    /// The earliest unfired fire time, if any.
    func nextFireAt() async throws -> Date?
}

/// A reminder store in memory, for tests and single-process use (nothing survives a restart;
/// use the SQLite store of `EvidenceSQLite` for that).
public actor InMemoryReminderStore: ReminderStore {
    private var rows: [String: Reminder] = [:]
    public init() {}

    public func replacePending(tenant: TenantID, incidentID: String, with reminders: [Reminder]) {
        rows = rows.filter { $0.value.tenant != tenant || $0.value.incidentID != incidentID || $0.value.firedAt != nil }
        for r in reminders where rows[r.id] == nil { rows[r.id] = r }
    }
    public func pending(until: Date) -> [Reminder] {
        rows.values.filter { $0.firedAt == nil && $0.fireAt <= until }.sorted { ($0.fireAt, $0.id) < ($1.fireAt, $1.id) }
    }
    public func claim(_ id: String, at: Date) -> Bool {
        guard var r = rows[id], r.firedAt == nil else { return false }
        r.firedAt = at; rows[id] = r
        return true
    }
    public func release(_ id: String) { rows[id]?.firedAt = nil }
    public func reminders(tenant: TenantID, incidentID: String) -> [Reminder] {
        rows.values.filter { $0.tenant == tenant && $0.incidentID == incidentID }.sorted { ($0.fireAt, $0.id) < ($1.fireAt, $1.id) }
    }
    public func nextFireAt() -> Date? { rows.values.filter { $0.firedAt == nil }.map(\.fireAt).min() }
}

/// Fires deadline reminders through a `Notifier`, from a persistent `ReminderStore`, on an
/// injected clock.
///
/// Guarantees: reminders fire in order of their fire time; each fires at most once even across
/// restarts and concurrent schedulers (the store's claim decides), and a reminder missed while
/// the process was down fires on the next `fireDue()`. A delivery that throws is released and
/// retried on the next call. If the process dies between claim and delivery the reminder is
/// not repeated (at most once); the claim time is kept so the gap is visible.
public actor ReminderScheduler {
    public let store: any ReminderStore
    public let notifier: any Notifier
    public let clock: any WallClock
    public var policy: ReminderPolicy

    public init(store: any ReminderStore, notifier: any Notifier, clock: any WallClock, policy: ReminderPolicy = .standard) {
        self.store = store; self.notifier = notifier; self.clock = clock; self.policy = policy
    }

    /// Replaces the pending reminders of an incident by those of `deadlines`.
    public func schedule(tenant: TenantID, incidentID: String, deadlines: [Deadline]) async throws {
        let reminders = deadlines.flatMap { d in policy.offsets.map { Reminder(tenant: tenant, incidentID: incidentID, kind: d.kind, due: d.due, offset: $0) } }
        try await store.replacePending(tenant: tenant, incidentID: incidentID, with: reminders)
    }

    /// Fires every reminder whose time has come, earliest first; returns those delivered.
    @discardableResult
    public func fireDue() async throws -> [Reminder] {
        let now = clock.now()
        var fired: [Reminder] = []
        for var r in try await store.pending(until: now) {
            guard try await store.claim(r.id, at: now) else { continue }
            r.firedAt = now
            do { try await notifier.notify(r) } catch {
                try await store.release(r.id)
                throw error
            }
            fired.append(r)
        }
        return fired
    }

    /// Runs until cancelled: fires due reminders, then sleeps until the next one (at most
    /// `maxWait` seconds, so a clock jump or a newly scheduled reminder is noticed).
    public func run(maxWait: Double = 60, sleep: @Sendable (Double) async throws -> Void) async throws {
        while !Task.isCancelled {
            try await fireDue()
            let next = try await store.nextFireAt()
            let wait = next.map { max(0, min(maxWait, $0.timeIntervalSince(clock.now()))) } ?? maxWait
            try await sleep(wait)
        }
    }
}
