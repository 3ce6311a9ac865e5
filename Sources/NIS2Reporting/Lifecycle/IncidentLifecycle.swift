import EvidenceCore
import Foundation

/// Where the current state of incidents lives (the evidence log holds their history).
/// Implementations: `InMemoryIncidentStateStore` here, `SQLiteIncidentStateStore` in EvidenceSQLite.
public protocol IncidentStateStore: Sendable {
    func load(tenant: TenantID, id: String) async throws -> Incident?
    func save(_ incident: Incident) async throws
    func list(tenant: TenantID) async throws -> [Incident]
}

/// Incident state in memory, for tests (nothing survives the process).
public actor InMemoryIncidentStateStore: IncidentStateStore {
    private var rows: [String: Incident] = [:]
    public init() {}
    public func load(tenant: TenantID, id: String) -> Incident? { rows[tenant.rawValue + "/" + id] }
    public func save(_ incident: Incident) { rows[incident.tenant.rawValue + "/" + incident.id] = incident }
    public func list(tenant: TenantID) -> [Incident] { rows.values.filter { $0.tenant == tenant }.sorted { $0.detectedAt < $1.detectedAt } }
}

/// The incident lifecycle of one tenant: detected -> aware -> early warning -> notification ->
/// (intermediate, progress) -> final report -> closed, or withdrawn when the suspicion is not
/// confirmed.
///
/// Guarantees: every transition is first appended to the tenant's evidence log (`incident.*`
/// records), then saved as state, so the log never misses a change the state shows; facts can be
/// updated and re-classified any time before the incident is closed, each change kept in
/// `history`; reminders follow the open deadlines when a scheduler is given.
/// Refuses, with `invalidTransition`: a step the current stage does not allow (a notification
/// before the early warning, anything after close or withdrawal), and an `awareAt` before
/// `detectedAt` would be accepted only with a note, never silently.
public actor IncidentLifecycle {
    public let tenant: TenantID
    private let evidence: any EvidenceRecordSink
    private let state: any IncidentStateStore
    private let clock: any WallClock
    private let engine: SeverityEngine
    private let scheduler: ReminderScheduler?

    public init(tenant: TenantID, evidence: any EvidenceRecordSink, state: any IncidentStateStore, clock: any WallClock,
                engine: SeverityEngine = SeverityEngine(), scheduler: ReminderScheduler? = nil) {
        self.tenant = tenant; self.evidence = evidence; self.state = state; self.clock = clock
        self.engine = engine; self.scheduler = scheduler
    }

    public func incident(_ id: String) async throws -> Incident {
        guard let i = try await state.load(tenant: tenant, id: id) else {
            throw ReportingError(.notFound, caseID: id, "no incident '\(id)' for tenant \(tenant); list them with 'nis2ctl incident show --tenant \(tenant)'")
        }
        return i
    }

    public func all() async throws -> [Incident] { try await state.list(tenant: tenant) }

    public func openDeadlines(_ id: String) async throws -> [Deadline] {
        try await incident(id).openDeadlines(policy: engine.deadlinePolicy)
    }

    /// A report draft for a stage, from the incident and the tenant's evidence log.
    public func draft(_ id: String, stage: ReportStage) async throws -> ReportDraft {
        let i = try await incident(id)
        let records = try await evidence.records(tenant: tenant, from: 0)
        let classification = try? engine.classify(i.entity, facts: i.effectiveFacts, caseID: id)
        return ReportDrafter(deadlinePolicy: engine.deadlinePolicy).draft(stage, for: i, evidence: records, classification: classification, now: clock.now())
    }

    /// Opens an incident at detection. `facts.awareAt` is ignored until a person confirms awareness.
    @discardableResult
    public func open(id: String, entity: ReportingEntity, title: String, detectedAt: Date, facts: IncidentFacts,
                     narrative: IncidentNarrative = IncidentNarrative(), swissDiscoveredAt: Date? = nil, by actor: String) async throws -> Incident {
        guard !id.isEmpty, id.count <= 128, !id.contains("/") else {
            throw ReportingError(.invalidFact, caseID: id, field: "id", "an incident id is 1-128 characters without '/'")
        }
        guard try await state.load(tenant: tenant, id: id) == nil else {
            throw ReportingError(.invalidTransition, caseID: id, field: "id", "an incident with this id already exists for tenant \(tenant)")
        }
        var i = Incident(id: id, tenant: tenant, entity: entity, title: title, detectedAt: detectedAt, facts: facts)
        i.narrative = narrative
        i.swissDiscoveredAt = swissDiscoveredAt
        return try await commit(i, kind: "incident.opened", by: actor, change: "opened at detection \(Timestamp.format(detectedAt))",
                                body: ["entityType": .string(entity.rawValue), "title": .string(title), "detectedAt": .string(Timestamp.format(detectedAt)),
                                       "facts": facts.jsonValue])
    }

    /// A person confirms when the entity became aware (reasonable certainty of a significant incident).
    @discardableResult
    public func confirmAwareness(_ id: String, awareAt: Date, by person: String) async throws -> Incident {
        var i = try await incident(id)
        guard i.stage == .detected || i.stage == .aware else {
            throw ReportingError(.invalidTransition, caseID: id, field: "awareAt", "awareness can be confirmed or corrected only before the early warning is submitted (stage is \(i.stage.rawValue))")
        }
        guard !person.isEmpty else { throw ReportingError(.invalidFact, caseID: id, field: "by", "name the person who confirms awareAt") }
        let previous = i.awareAt
        i.awareAt = awareAt; i.awareConfirmedBy = person; i.stage = .aware
        i.facts.awareAt = awareAt
        var body: [String: JSONValue] = ["awareAt": .string(Timestamp.format(awareAt)), "detectedAt": .string(Timestamp.format(i.detectedAt))]
        if let previous { body["previousAwareAt"] = .string(Timestamp.format(previous)) }
        if awareAt < i.detectedAt { body["note"] = .string("awareAt is before detectedAt") }
        i = try await commit(i, kind: "incident.aware", by: person, change: "awareAt confirmed \(Timestamp.format(awareAt))", body: body)
        return try await classify(id, by: person)
    }

    /// Replaces the facts and narrative; the incident is re-classified if it has been before.
    @discardableResult
    public func update(_ id: String, facts: IncidentFacts? = nil, narrative: IncidentNarrative? = nil, entity: ReportingEntity? = nil,
                       handledAt: Date? = nil, gdprAwareAt: Date? = nil, swissDiscoveredAt: Date? = nil,
                       intermediateReportRequestedDue: Date? = nil, by actor: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        var body: [String: JSONValue] = [:]
        if let facts { i.facts = facts; if let a = i.awareAt { i.facts.awareAt = a }; body["facts"] = i.facts.jsonValue }
        if let narrative { i.narrative = narrative; body["narrative"] = try JSONParser.parse(try JCS.canonicalize(narrative)) }
        if let entity { i.entity = entity; body["entityType"] = .string(entity.rawValue) }
        if let handledAt { i.handledAt = handledAt; body["handledAt"] = .string(Timestamp.format(handledAt)) }
        if let gdprAwareAt { i.gdprAwareAt = gdprAwareAt; body["gdprAwareAt"] = .string(Timestamp.format(gdprAwareAt)) }
        if let swissDiscoveredAt { i.swissDiscoveredAt = swissDiscoveredAt; body["swissDiscoveredAt"] = .string(Timestamp.format(swissDiscoveredAt)) }
        if let d = intermediateReportRequestedDue { i.intermediateReportRequestedDue = d; body["intermediateReportRequestedDue"] = .string(Timestamp.format(d)) }
        i = try await commit(i, kind: "incident.updated", by: actor, change: "updated " + body.keys.sorted().joined(separator: ", "), body: body)
        return i.classifiedAt != nil ? try await classify(id, by: actor) : i
    }

    /// Classifies the current facts and records the result (criteria, explanations, deadlines).
    @discardableResult
    public func classify(_ id: String, by actor: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        let c = try engine.classify(i.entity, facts: i.effectiveFacts, caseID: id)
        let previous = i.significant
        switch c.verdict {
        case .significant: i.significant = true
        case .notSignificant: i.significant = false
        case .needsHumanDecision: i.significant = nil
        }
        i.criteria = c.criterionLabels
        i.classifiedAt = clock.now()
        var body: [String: JSONValue] = ["significant": i.significant.map(JSONValue.bool) ?? .null,
                                         "criteria": .array(c.criterionLabels.map(JSONValue.string)),
                                         "explanations": .array(c.explanationLines.map(JSONValue.string)),
                                         "awareConfirmed": .bool(i.awareAt != nil)]
        if let previous { body["previousSignificant"] = .bool(previous) }
        return try await commit(i, kind: "incident.classified", by: actor,
                                change: "classified: " + (i.significant == true ? "significant (\(c.criterionLabels.joined(separator: ", ")))" : i.significant == false ? "not significant" : "needs a human decision"),
                                body: body)
    }

    /// A person decides significance for an entity outside IR 2024/2690 (NIS2 Art 23(3)).
    @discardableResult
    public func decideSignificance(_ id: String, significant: Bool, reason: String, by person: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        i.significant = significant
        return try await commit(i, kind: "incident.decided", by: person, change: "significance decided by a person: \(significant)",
                                body: ["significant": .bool(significant), "reason": .string(reason)])
    }

    /// Records that a report went to the authority.
    @discardableResult
    public func submit(_ id: String, stage: ReportStage, at: Date? = nil, reference: String? = nil, by actor: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        let when = at ?? clock.now()
        func refuse(_ why: String) -> ReportingError { ReportingError(.invalidTransition, caseID: id, field: "stage", "cannot submit \(stage.rawValue): \(why)") }
        if stage != .chISG {
            guard i.awareAt != nil else { throw refuse("confirm awareAt first ('nis2ctl incident aware')") }
            guard i.significant == true else { throw refuse("the incident is not classified as significant; classify it, or for an entity outside IR 2024/2690 record a person's decision") }
        }
        switch stage {
        case .earlyWarning:
            guard i.stage == .aware else { throw refuse("the early warning was already submitted (stage \(i.stage.rawValue))") }
            i.stage = .earlyWarningSubmitted
        case .notification:
            guard i.stage == .earlyWarningSubmitted else { throw refuse(i.stage == .aware ? "submit the early warning first (both may go in together)" : "the notification was already submitted") }
            i.stage = .notificationSubmitted
        case .intermediate, .progress:
            guard i.stage == .notificationSubmitted else { throw refuse("it follows the incident notification (stage is \(i.stage.rawValue))") }
        case .final:
            guard i.stage == .notificationSubmitted else { throw refuse("it follows the incident notification (stage is \(i.stage.rawValue))") }
            i.stage = .finalReportSubmitted
        case .chISG:
            break
        }
        i.submissions.append(Submission(stage: stage, at: when, by: actor, reference: reference))
        var body: [String: JSONValue] = ["stage": .string(stage.rawValue), "submittedAt": .string(Timestamp.format(when))]
        if let reference { body["reference"] = .string(reference) }
        return try await commit(i, kind: "incident.submitted", by: actor, change: "\(stage.rawValue) submitted \(Timestamp.format(when))", body: body)
    }

    /// Withdraws the incident when the suspicion is not confirmed (the Austrian portal's "Widerruf").
    @discardableResult
    public func withdraw(_ id: String, reason: String, by actor: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        guard !reason.isEmpty else { throw ReportingError(.invalidFact, caseID: id, field: "reason", "say why the suspicion was not confirmed") }
        i.stage = .withdrawn; i.withdrawalReason = reason
        return try await commit(i, kind: "incident.withdrawn", by: actor, change: "withdrawn: \(reason)", body: ["reason": .string(reason)])
    }

    /// Closes an incident whose final report went in, or one classified as not significant.
    @discardableResult
    public func close(_ id: String, by actor: String) async throws -> Incident {
        var i = try await incident(id)
        try requireOpen(i)
        guard i.stage == .finalReportSubmitted || (i.significant == false && [.detected, .aware].contains(i.stage)) else {
            throw ReportingError(.invalidTransition, caseID: id, field: "stage", "close needs the final report submitted, or a not-significant classification (stage is \(i.stage.rawValue))")
        }
        i.stage = .closed
        return try await commit(i, kind: "incident.closed", by: actor, change: "closed", body: [:])
    }

    private func requireOpen(_ i: Incident) throws {
        guard !i.stage.isTerminal else {
            throw ReportingError(.invalidTransition, caseID: i.id, field: "stage", "the incident is \(i.stage.rawValue); nothing more can change")
        }
    }

    private func commit(_ incident: Incident, kind: String, by actor: String, change: String, body: [String: JSONValue]) async throws -> Incident {
        var i = incident
        let now = clock.now()
        let revision = (i.history.last?.revision ?? 0) + 1
        var b = body
        b["incident"] = .string(i.id); b["incidentStage"] = .string(i.stage.rawValue); b["revision"] = .number(Double(revision))
        _ = try await evidence.append(EvidenceRecord(kind: kind, tenant: tenant, time: now, actor: actor, body: .object(b)))
        i.history.append(IncidentRevision(revision: revision, at: now, by: actor, change: change))
        try await state.save(i)
        if let scheduler {
            try await scheduler.schedule(tenant: tenant, incidentID: i.id, deadlines: i.openDeadlines(policy: engine.deadlinePolicy))
        }
        return i
    }
}
