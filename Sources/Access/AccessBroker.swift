import EvidenceCore
import Foundation

/// Just-in-time access for one store of tenant logs: request, approve or deny, activate
/// (optionally after a WebAuthn step-up), expiry by the injected clock, revocation, and
/// break-glass with a mandatory review afterwards.
///
/// Guarantees: every decision, a refusal included, is an evidence record in the tenant's log
/// before the call returns; a principal acts only inside its own tenant; a requester never
/// approves, denies or reviews their own grant; approvals come from distinct people with the
/// `approver` or `admin` role and the policy's assurance; a grant never outlives the policy's
/// maximum; an active grant past its end is recorded as expired on the next call touching
/// the tenant (or by `expireDue`).
///
/// State: none besides the log. Grant records carry the whole grant as it stands after the
/// decision, so the broker rebuilds every grant by reading the tenant's log (it catches up
/// from where it stopped on each call). One broker per store is the intended deployment:
/// two brokers writing the same tenant concurrently could both accept conflicting decisions.
public actor AccessBroker {
    private struct Ledger { var grants: [String: AccessGrant] = [:]; var order: [String] = []; var nextIndex: UInt64 = 0 }

    private let sink: any EvidenceRecordSink
    private let clock: any WallClock
    private let policies: [TenantID: GrantPolicy]
    private let defaultPolicy: GrantPolicy
    private let newGrantID: @Sendable () -> String
    private let denials: AccessDenialRecorder
    private var ledgers: [TenantID: Ledger] = [:]

    /// - Parameters:
    ///   - policies: per-tenant rules; tenants without an entry use `defaultPolicy`.
    ///   - newGrantID: the source of grant identifiers (random by default; inject for tests).
    public init(sink: any EvidenceRecordSink, clock: any WallClock, policies: [TenantID: GrantPolicy] = [:],
                defaultPolicy: GrantPolicy = GrantPolicy(),
                newGrantID: @escaping @Sendable () -> String = { "g-" + UUID().uuidString.lowercased().prefix(18).replacingOccurrences(of: "-", with: "") }) {
        self.sink = sink; self.clock = clock; self.policies = policies; self.defaultPolicy = defaultPolicy
        self.newGrantID = newGrantID; denials = AccessDenialRecorder(sink: sink, clock: clock)
    }

    public func policy(for tenant: TenantID) -> GrantPolicy { policies[tenant] ?? defaultPolicy }

    /// Writes refusals into the same logs as the broker's own: for checks that run before a
    /// broker call, such as verifying the passkey assertion behind a step-up.
    public nonisolated var denialRecorder: AccessDenialRecorder { denials }

    // MARK: Requests and decisions

    /// Files a request. Refused (and logged): another tenant, assurance below policy, no
    /// reason and no ticket, a duration of zero or above the policy maximum.
    public func request(_ r: GrantRequest, by p: Principal) async throws -> AccessGrant {
        let op = AccessOperation.requestGrant
        try await sameTenant(op, r.tenant, p)
        let pol = policy(for: r.tenant)
        try await checkRequestShape(op, r, p)
        guard p.assurance >= pol.requiredAssurance else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "authenticated with \(p.assurance), the policy needs \(pol.requiredAssurance); log in again with a stronger method")
        }
        guard r.duration > 0, r.duration <= pol.maxDuration else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "duration \(Int(r.duration)) s is outside 1...\(Int(pol.maxDuration)) s allowed by the policy")
        }
        try await sync(r.tenant)
        let g = AccessGrant(id: newGrantID(), tenant: r.tenant, requester: PrincipalReference(p), request: r, requestedAt: clock.now(),
                            state: .pending, approvalsRequired: pol.approversRequired)
        try await record("grant.requested", g, by: p, extra: ["policy": pol.json])
        return g
    }

    /// Adds one approval; the grant becomes `approved` when the policy's count is reached.
    public func approve(_ id: String, tenant: TenantID, by p: Principal) async throws -> AccessGrant {
        let op = AccessOperation.approveGrant
        var g = try await decidable(op, id, tenant, p)
        let pol = policy(for: tenant)
        guard p.assurance >= pol.requiredAssurance else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "approver authenticated with \(p.assurance), the policy needs \(pol.requiredAssurance)")
        }
        guard g.state == .pending else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant is \(g.state.rawValue), only a pending grant can be approved")
        }
        let me = PrincipalReference(p)
        guard !g.approvals.contains(where: { $0.isSamePerson(as: me) }) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "this person already approved; approvals must come from \(g.approvalsRequired) distinct people")
        }
        g.approvals.append(me)
        if g.approvals.count >= g.approvalsRequired { g.state = .approved }
        try await record("grant.approved", g, by: p, extra: ["approver": me.json, "complete": .bool(g.state == .approved)])
        return g
    }

    /// Denies a pending or approved (not yet active) grant. Terminal.
    public func deny(_ id: String, tenant: TenantID, by p: Principal, reason: String) async throws -> AccessGrant {
        let op = AccessOperation.denyGrant
        var g = try await decidable(op, id, tenant, p)
        guard g.state == .pending || g.state == .approved else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant is \(g.state.rawValue); deny applies before activation (revoke an active grant)")
        }
        g.state = .denied
        g.deniedBy = PrincipalReference(p)
        g.endedAt = clock.now()
        try await record("grant.denied", g, by: p, extra: ["reason": .string(reason)])
        return g
    }

    /// Starts an approved grant; only the requester can. With a step-up policy, `stepUp` must
    /// be a fresh proof for the same person (and with user verification if the policy says so).
    public func activate(_ id: String, tenant: TenantID, by p: Principal, stepUp: StepUpProof? = nil) async throws -> AccessGrant {
        let op = AccessOperation.activateGrant
        var g = try await existing(op, id, tenant, p)
        let pol = policy(for: tenant)
        let now = clock.now()
        guard g.requester.isSamePerson(as: PrincipalReference(p)) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "only the requester \(g.requester.actor) can activate this grant")
        }
        guard g.state == .approved else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant is \(g.state.rawValue); only an approved grant can be activated")
        }
        guard p.assurance >= pol.requiredAssurance else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "authenticated with \(p.assurance), the policy needs \(pol.requiredAssurance)")
        }
        if pol.stepUpRequired {
            guard let s = stepUp else {
                throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "the policy requires a passkey step-up before activation; none was given")
            }
            if let why = Self.stepUpProblem(s, p: p, policy: pol, now: now) {
                throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: why)
            }
            g.stepUp = s
        } else if let s = stepUp, Self.stepUpProblem(s, p: p, policy: pol, now: now) == nil {
            g.stepUp = s
        }
        g.state = .active
        g.activatedAt = now
        g.expiresAt = now + min(g.duration, pol.maxDuration)
        try await record("grant.activated", g, by: p)
        return g
    }

    /// Ends a pending, approved or active grant. The requester may withdraw their own; others
    /// need `admin` or `approver`.
    public func revoke(_ id: String, tenant: TenantID, by p: Principal, reason: String) async throws -> AccessGrant {
        let op = AccessOperation.revokeGrant
        var g = try await existing(op, id, tenant, p)
        let me = PrincipalReference(p)
        guard g.requester.isSamePerson(as: me) || !p.roles.isDisjoint(with: [.admin, .approver]) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "revoking another person's grant needs the admin or approver role")
        }
        guard [.pending, .approved, .active].contains(g.state) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant is already \(g.state.rawValue)")
        }
        g.state = .revoked
        g.revokedBy = me
        g.endedAt = clock.now()
        try await record("grant.revoked", g, by: p, extra: ["reason": .string(reason)])
        return g
    }

    /// Emergency access, active at once without approval, for the policy's break-glass roles.
    /// A reason is mandatory; the grant stays flagged until someone else reviews it.
    public func breakGlass(_ r: GrantRequest, by p: Principal) async throws -> AccessGrant {
        let op = AccessOperation.breakGlass
        try await sameTenant(op, r.tenant, p)
        let pol = policy(for: r.tenant)
        try await checkRequestShape(op, r, p)
        guard !p.roles.isDisjoint(with: pol.breakGlassRoles) else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "break-glass needs one of the roles \(pol.breakGlassRoles.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        guard let why = r.reason, !why.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "break-glass needs a written reason (a ticket alone is not enough)")
        }
        guard p.assurance >= pol.requiredAssurance else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "authenticated with \(p.assurance), the policy needs \(pol.requiredAssurance)")
        }
        try await sync(r.tenant)
        let now = clock.now()
        var g = AccessGrant(id: newGrantID(), tenant: r.tenant, requester: PrincipalReference(p), request: r, requestedAt: now,
                            state: .active, approvalsRequired: 0)
        g.duration = min(r.duration > 0 ? r.duration : pol.breakGlassDuration, pol.breakGlassDuration, pol.maxDuration)
        g.breakGlass = true
        g.activatedAt = now
        g.expiresAt = now + g.duration
        try await record("grant.break-glass", g, by: p, extra: ["reviewRequired": .bool(true)])
        return g
    }

    /// The after-the-fact review of a break-glass grant, by an approver, admin or auditor who
    /// is not the person who broke the glass.
    public func review(_ id: String, tenant: TenantID, by p: Principal, verdict: GrantReview.Verdict, note: String) async throws -> AccessGrant {
        let op = AccessOperation.reviewBreakGlass
        var g = try await existing(op, id, tenant, p)
        guard g.breakGlass else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant \(id) is not a break-glass grant; only those are reviewed")
        }
        guard g.review == nil else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "grant \(id) was already reviewed")
        }
        guard !p.roles.isDisjoint(with: [.approver, .admin, .auditor]) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "reviewing break-glass needs the approver, admin or auditor role")
        }
        guard !g.requester.isSamePerson(as: PrincipalReference(p)) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "the person who broke the glass cannot review it")
        }
        g.review = GrantReview(reviewer: PrincipalReference(p), verdict: verdict, note: note, at: clock.now())
        try await record("grant.reviewed", g, by: p, extra: ["verdict": .string(verdict.rawValue)])
        return g
    }

    // MARK: Reads

    /// The tenant's grants in request order. People with a tenant role see all; others see
    /// only their own.
    public func grants(tenant: TenantID, by p: Principal) async throws -> [AccessGrant] {
        try await sameTenant(.listGrants, tenant, p)
        try await sync(tenant)
        let l = ledgers[tenant] ?? Ledger()
        let all = l.order.compactMap { l.grants[$0] }
        if !p.roles.isEmpty { return all }
        let me = PrincipalReference(p)
        return all.filter { $0.requester.isSamePerson(as: me) }
    }

    /// One grant; without a tenant role, only one's own.
    public func grant(_ id: String, tenant: TenantID, by p: Principal) async throws -> AccessGrant {
        let g = try await existing(.showGrant, id, tenant, p)
        guard !p.roles.isEmpty || g.requester.isSamePerson(as: PrincipalReference(p)) else {
            throw try await denials.deny(.showGrant, tenant: tenant, by: p, grantID: id, reason: "seeing another person's grant needs a tenant role")
        }
        return g
    }

    /// Records every active grant of the tenant whose end has passed as expired; returns them.
    @discardableResult
    public func expireDue(tenant: TenantID) async throws -> [AccessGrant] {
        try await catchUp(tenant)
        return try await expire(tenant)
    }

    // MARK: Internals

    private func sameTenant(_ op: AccessOperation, _ tenant: TenantID, _ p: Principal) async throws {
        guard p.tenant == tenant else {
            throw try await denials.deny(op, tenant: tenant, by: p, reason: "principal belongs to tenant \(p.tenant); it cannot act in tenant \(tenant)")
        }
    }

    private func checkRequestShape(_ op: AccessOperation, _ r: GrantRequest, _ p: Principal) async throws {
        func ok(_ s: String?, max: Int) -> Bool { s.map { !$0.isEmpty && $0.utf8.count <= max && !$0.contains("\n") } ?? true }
        guard !r.target.isEmpty, !r.role.isEmpty, ok(r.target, max: 256), ok(r.role, max: 128), ok(r.ticket, max: 128),
              (r.reason?.utf8.count ?? 0) <= 2000 else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "target and role must be 1-256 and 1-128 characters on one line, ticket at most 128, reason at most 2000", code: .malformedInput)
        }
        guard (r.reason.map { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? false) || r.ticket != nil else {
            throw try await denials.deny(op, tenant: r.tenant, by: p, reason: "a grant needs a reason or a ticket reference")
        }
    }

    private func existing(_ op: AccessOperation, _ id: String, _ tenant: TenantID, _ p: Principal) async throws -> AccessGrant {
        try await sameTenant(op, tenant, p)
        try await sync(tenant)
        guard let g = ledgers[tenant]?.grants[id] else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: String(id.prefix(80)), reason: "no grant '\(id.prefix(80))' in tenant \(tenant)", code: .notFound)
        }
        return g
    }

    /// A grant the principal may approve or deny: approver/admin role, not the requester.
    private func decidable(_ op: AccessOperation, _ id: String, _ tenant: TenantID, _ p: Principal) async throws -> AccessGrant {
        let g = try await existing(op, id, tenant, p)
        guard !p.roles.isDisjoint(with: [.approver, .admin]) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "deciding on grants needs the approver or admin role in tenant \(tenant)")
        }
        guard !g.requester.isSamePerson(as: PrincipalReference(p)) else {
            throw try await denials.deny(op, tenant: tenant, by: p, grantID: id, reason: "a requester can never approve or deny their own request")
        }
        return g
    }

    static func stepUpProblem(_ s: StepUpProof, p: Principal, policy: GrantPolicy, now: Date) -> String? {
        if s.subject != p.subject || s.issuer != p.issuer { return "the step-up proof belongs to \(s.issuer)#\(s.subject), not to the requester" }
        let age = now.timeIntervalSince(s.verifiedAt)
        if age < -5 { return "the step-up proof is dated in the future (\(Timestamp.format(s.verifiedAt)))" }
        if age > policy.stepUpMaxAge { return "the step-up proof is \(Int(age)) s old; the policy accepts at most \(Int(policy.stepUpMaxAge)) s: repeat the passkey check" }
        if policy.stepUpUserVerification && !s.userVerified { return "the passkey step-up lacks user verification (PIN or biometric), which the policy requires" }
        return nil
    }

    private func record(_ kind: String, _ g: AccessGrant, by p: Principal?, extra: [String: JSONValue] = [:]) async throws {
        var body = extra
        body["grant"] = g.json
        let actor = p.map { $0.issuer + "#" + $0.subject }
        _ = try await sink.append(EvidenceRecord(kind: kind, tenant: g.tenant, time: clock.now(), actor: actor, body: .object(body)))
        var l = ledgers[g.tenant] ?? Ledger()
        if l.grants.updateValue(g, forKey: g.id) == nil { l.order.append(g.id) }
        ledgers[g.tenant] = l
    }

    /// Reads the tenant's log from where the broker stopped, then expires what is due.
    private func sync(_ tenant: TenantID) async throws {
        try await catchUp(tenant)
        _ = try await expire(tenant)
    }

    private func catchUp(_ tenant: TenantID) async throws {
        var l = ledgers[tenant] ?? Ledger()
        let new = try await sink.records(tenant: tenant, from: l.nextIndex)
        for r in new where r.kind.hasPrefix("grant.") {
            guard let body = r.body["grant"] else { continue }
            let g = try AccessGrant(json: body)
            guard g.tenant == tenant else {
                throw EvidenceError(.verificationFailed, "tenant \(tenant)'s log holds a grant record of tenant \(g.tenant); the log is damaged or mixed")
            }
            if l.grants.updateValue(g, forKey: g.id) == nil { l.order.append(g.id) }
        }
        l.nextIndex += UInt64(new.count)
        ledgers[tenant] = l
    }

    private func expire(_ tenant: TenantID) async throws -> [AccessGrant] {
        let now = clock.now()
        let due = (ledgers[tenant]?.grants.values ?? [:].values).filter { $0.state == .active && ($0.expiresAt ?? .distantFuture) <= now }
        var out: [AccessGrant] = []
        for var g in due.sorted(by: { ($0.expiresAt ?? now) < ($1.expiresAt ?? now) }) {
            g.state = .expired
            g.endedAt = g.expiresAt
            try await record("grant.expired", g, by: nil)
            out.append(g)
        }
        return out
    }
}
