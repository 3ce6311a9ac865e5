import EvidenceCore
import Foundation

/// The rules one tenant sets for just-in-time access.
///
/// Guarantees (enforced by `AccessBroker`, whatever the values): a requester never approves
/// their own request, approvers are distinct people, a grant never lasts longer than
/// `maxDuration`, and a break-glass grant always needs an after-the-fact review.
public struct GrantPolicy: Hashable, Sendable {
    /// Minimum assurance of the requester, the approvers and the break-glass user.
    public var requiredAssurance: AssuranceLevel
    /// Distinct approvers needed (at least 1).
    public var approversRequired: Int
    /// Upper bound of a grant's duration.
    public var maxDuration: TimeInterval
    /// Activation needs a fresh step-up proof (WebAuthn) from the requester.
    public var stepUpRequired: Bool
    /// The step-up must also carry user verification (PIN or biometric), not presence only.
    public var stepUpUserVerification: Bool
    /// How old a step-up proof may be at activation.
    public var stepUpMaxAge: TimeInterval
    /// Roles allowed to open break-glass access.
    public var breakGlassRoles: Set<TenantRole>
    /// Duration of break-glass access (also bounded by `maxDuration`).
    public var breakGlassDuration: TimeInterval

    public init(requiredAssurance: AssuranceLevel = .multiFactor, approversRequired: Int = 1, maxDuration: TimeInterval = 4 * 3600,
                stepUpRequired: Bool = false, stepUpUserVerification: Bool = true, stepUpMaxAge: TimeInterval = 300,
                breakGlassRoles: Set<TenantRole> = [.admin, .incidentManager], breakGlassDuration: TimeInterval = 3600) {
        self.requiredAssurance = requiredAssurance; self.approversRequired = max(1, approversRequired)
        self.maxDuration = maxDuration; self.stepUpRequired = stepUpRequired; self.stepUpUserVerification = stepUpUserVerification
        self.stepUpMaxAge = stepUpMaxAge; self.breakGlassRoles = breakGlassRoles; self.breakGlassDuration = breakGlassDuration
    }

    var json: JSONValue {
        .object(["requiredAssurance": .string(requiredAssurance.description), "approversRequired": .number(Double(approversRequired)),
                 "maxDurationSeconds": .number(maxDuration), "stepUpRequired": .bool(stepUpRequired)])
    }
}

/// Every operation the broker and the guarded evidence log offer, named as they appear in
/// `access.denied` records.
public enum AccessOperation: String, Sendable, CaseIterable {
    case requestGrant = "grant.request"
    case approveGrant = "grant.approve"
    case denyGrant = "grant.deny"
    case activateGrant = "grant.activate"
    case revokeGrant = "grant.revoke"
    case breakGlass = "grant.break-glass"
    case reviewBreakGlass = "grant.review"
    case listGrants = "grant.list"
    case showGrant = "grant.show"
    case readEvidence = "evidence.read"
    case appendEvidence = "evidence.append"
}
