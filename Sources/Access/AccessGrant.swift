import EvidenceCore
import Foundation

/// Who a decision is about or by, as written into the log: enough to name the person and
/// how strongly they authenticated, without copying the whole login.
public struct PrincipalReference: Hashable, Sendable {
    public var issuer: String
    public var subject: String
    public var tenant: TenantID
    public var assurance: AssuranceLevel

    public init(_ p: Principal) {
        issuer = p.issuer; subject = p.subject; tenant = p.tenant; assurance = p.assurance
    }

    public init(issuer: String, subject: String, tenant: TenantID, assurance: AssuranceLevel) {
        self.issuer = issuer; self.subject = subject; self.tenant = tenant; self.assurance = assurance
    }

    /// `issuer#subject`, the actor string of evidence records.
    public var actor: String { issuer + "#" + subject }

    /// Same person: same issuer and subject (the tenant scope and assurance do not matter).
    public func isSamePerson(as other: PrincipalReference) -> Bool { issuer == other.issuer && subject == other.subject }

    var json: JSONValue {
        .object(["issuer": .string(issuer), "subject": .string(subject), "tenant": .string(tenant.rawValue),
                 "assurance": .string(assurance.description)])
    }

    init(json v: JSONValue) throws {
        guard let i = v["issuer"]?.stringValue, let s = v["subject"]?.stringValue, let t = v["tenant"]?.stringValue,
              let a = v["assurance"]?.stringValue, let level = AssuranceLevel.allCases.first(where: { $0.description == a }) else {
            throw EvidenceError(.malformedInput, "a principal reference in a grant record needs issuer, subject, tenant and assurance")
        }
        self.init(issuer: i, subject: s, tenant: try TenantID(t), assurance: level)
    }
}

/// Proof that the requester passed a step-up (a WebAuthn assertion with user presence, and
/// user verification when the policy asks for it) shortly before activating a grant.
///
/// The WebAuthn adapter verifies the assertion; the composition that calls the broker turns
/// its result into this value. The broker checks who, when and which flags, and logs it.
public struct StepUpProof: Hashable, Sendable {
    /// `webauthn` for a passkey assertion.
    public var method: String
    /// base64url credential id of the authenticator used.
    public var credentialID: String
    public var subject: String
    public var issuer: String
    public var verifiedAt: Date
    public var userVerified: Bool
    public var signCount: UInt32

    public init(method: String = "webauthn", credentialID: String, subject: String, issuer: String,
                verifiedAt: Date, userVerified: Bool, signCount: UInt32) {
        self.method = method; self.credentialID = credentialID; self.subject = subject; self.issuer = issuer
        self.verifiedAt = verifiedAt; self.userVerified = userVerified; self.signCount = signCount
    }

    var json: JSONValue {
        .object(["method": .string(method), "credentialID": .string(credentialID), "subject": .string(subject),
                 "issuer": .string(issuer), "verifiedAt": .string(Timestamp.format(verifiedAt)),
                 "userVerified": .bool(userVerified), "signCount": .number(Double(signCount))])
    }

    init(json v: JSONValue) throws {
        guard let m = v["method"]?.stringValue, let c = v["credentialID"]?.stringValue, let s = v["subject"]?.stringValue,
              let i = v["issuer"]?.stringValue, let t = v["verifiedAt"]?.stringValue, let uv = v["userVerified"]?.boolValue,
              let n = v["signCount"]?.numberValue, n >= 0, n <= Double(UInt32.max) else {
            throw EvidenceError(.malformedInput, "a step-up proof in a grant record is incomplete")
        }
        self.init(method: m, credentialID: c, subject: s, issuer: i, verifiedAt: try Timestamp.parse(t), userVerified: uv, signCount: UInt32(n))
    }
}

/// What a person asks for: privileged `role` on `target` inside `tenant`, for a bounded time,
/// with a reason or a ticket (at least one).
public struct GrantRequest: Hashable, Sendable {
    public var tenant: TenantID
    /// The system or resource, e.g. `dc01.acme.internal` or `m365:acme`.
    public var target: String
    /// The privileged role on the target, e.g. `domain-admin`.
    public var role: String
    public var reason: String?
    public var ticket: String?
    public var duration: TimeInterval

    public init(tenant: TenantID, target: String, role: String, reason: String? = nil, ticket: String? = nil, duration: TimeInterval) {
        self.tenant = tenant; self.target = target; self.role = role; self.reason = reason; self.ticket = ticket; self.duration = duration
    }
}

/// Where a grant stands. Terminal: denied, expired, revoked.
public enum GrantState: String, Sendable, CaseIterable {
    case pending, approved, denied, active, expired, revoked
}

/// The after-the-fact review of a break-glass grant.
public struct GrantReview: Hashable, Sendable {
    public enum Verdict: String, Sendable, CaseIterable { case justified, unjustified }
    public var reviewer: PrincipalReference
    public var verdict: Verdict
    public var note: String
    public var at: Date
}

/// A just-in-time access grant as the log tells it: every field comes from evidence records
/// of the tenant, so the state can always be rebuilt from the log alone.
public struct AccessGrant: Hashable, Sendable, Identifiable {
    public var id: String
    public var tenant: TenantID
    public var requester: PrincipalReference
    public var target: String
    public var role: String
    public var reason: String?
    public var ticket: String?
    public var duration: TimeInterval
    public var requestedAt: Date
    public var state: GrantState
    public var approvals: [PrincipalReference] = []
    public var approvalsRequired: Int
    public var deniedBy: PrincipalReference?
    public var activatedAt: Date?
    public var expiresAt: Date?
    public var revokedBy: PrincipalReference?
    public var endedAt: Date?
    public var stepUp: StepUpProof?
    /// Break-glass: active at once without approval; needs a review afterwards.
    public var breakGlass: Bool = false
    public var review: GrantReview?

    /// A break-glass grant nobody has reviewed yet.
    public var awaitsReview: Bool { breakGlass && review == nil }

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "tenant": .string(tenant.rawValue), "requester": requester.json, "target": .string(target),
            "role": .string(role), "durationSeconds": .number(duration), "requestedAt": .string(Timestamp.format(requestedAt)),
            "state": .string(state.rawValue), "approvals": .array(approvals.map(\.json)),
            "approvalsRequired": .number(Double(approvalsRequired)), "breakGlass": .bool(breakGlass),
        ]
        if let reason { o["reason"] = .string(reason) }
        if let ticket { o["ticket"] = .string(ticket) }
        if let deniedBy { o["deniedBy"] = deniedBy.json }
        if let activatedAt { o["activatedAt"] = .string(Timestamp.format(activatedAt)) }
        if let expiresAt { o["expiresAt"] = .string(Timestamp.format(expiresAt)) }
        if let revokedBy { o["revokedBy"] = revokedBy.json }
        if let endedAt { o["endedAt"] = .string(Timestamp.format(endedAt)) }
        if let stepUp { o["stepUp"] = stepUp.json }
        if let review {
            o["review"] = .object(["reviewer": review.reviewer.json, "verdict": .string(review.verdict.rawValue),
                                   "note": .string(review.note), "at": .string(Timestamp.format(review.at))])
        }
        return .object(o)
    }

    /// The public JSON form (the same snapshot the log records carry).
    public var jsonValue: JSONValue { json }

    init(id: String, tenant: TenantID, requester: PrincipalReference, request r: GrantRequest, requestedAt: Date,
         state: GrantState, approvalsRequired: Int) {
        self.id = id; self.tenant = tenant; self.requester = requester; target = r.target; role = r.role
        reason = r.reason; ticket = r.ticket; duration = r.duration; self.requestedAt = requestedAt
        self.state = state; self.approvalsRequired = approvalsRequired
    }

    init(json v: JSONValue) throws {
        func str(_ k: String) throws -> String {
            guard let s = v[k]?.stringValue else { throw EvidenceError(.malformedInput, "grant record lacks '\(k)'") }
            return s
        }
        func time(_ k: String) throws -> Date? { try v[k]?.stringValue.map(Timestamp.parse) }
        guard let req = v["requester"], let d = v["durationSeconds"]?.numberValue, let n = v["approvalsRequired"]?.numberValue,
              let st = GrantState(rawValue: try str("state")), let apps = v["approvals"]?.arrayValue else {
            throw EvidenceError(.malformedInput, "grant record lacks requester, durationSeconds, approvalsRequired, state or approvals")
        }
        id = try str("id"); tenant = try TenantID(try str("tenant")); requester = try PrincipalReference(json: req)
        target = try str("target"); role = try str("role"); reason = v["reason"]?.stringValue; ticket = v["ticket"]?.stringValue
        duration = d; requestedAt = try Timestamp.parse(try str("requestedAt")); state = st
        approvals = try apps.map(PrincipalReference.init(json:)); approvalsRequired = Int(n)
        deniedBy = try v["deniedBy"].map(PrincipalReference.init(json:))
        activatedAt = try time("activatedAt"); expiresAt = try time("expiresAt"); endedAt = try time("endedAt")
        revokedBy = try v["revokedBy"].map(PrincipalReference.init(json:))
        stepUp = try v["stepUp"].map(StepUpProof.init(json:))
        breakGlass = v["breakGlass"]?.boolValue ?? false
        if let r = v["review"] {
            guard let who = r["reviewer"], let verdict = r["verdict"]?.stringValue.flatMap(GrantReview.Verdict.init(rawValue:)),
                  let at = r["at"]?.stringValue else { throw EvidenceError(.malformedInput, "grant review record is incomplete") }
            review = GrantReview(reviewer: try PrincipalReference(json: who), verdict: verdict, note: r["note"]?.stringValue ?? "",
                                 at: try Timestamp.parse(at))
        }
    }
}
