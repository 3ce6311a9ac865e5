import EvidenceCore
import Foundation

/// Writes an `access.denied` record for every refused operation, then hands back the error
/// the caller throws.
///
/// Where denials go: always into the log of the tenant whose grant or evidence was asked
/// for (its auditors must see every attempt on their data); when the principal belongs to
/// another tenant, a second, identical record also goes into the principal's own tenant log,
/// so the home tenant sees what its people tried elsewhere. If a record cannot be written the
/// write error is thrown instead: a denial that left no evidence is not reported as a plain
/// denial.
public struct AccessDenialRecorder: Sendable {
    public let sink: any EvidenceRecordSink
    public let clock: any WallClock

    public init(sink: any EvidenceRecordSink, clock: any WallClock) { self.sink = sink; self.clock = clock }

    /// Records the refusal and returns the `EvidenceError` to throw (code `.accessDenied`
    /// unless another code, such as `.notFound`, says more).
    public func deny(_ operation: AccessOperation, tenant: TenantID, by principal: Principal, grantID: String? = nil,
                     reason: String, code: EvidenceError.Code = .accessDenied) async throws -> EvidenceError {
        var body: [String: JSONValue] = [
            "operation": .string(operation.rawValue), "reason": .string(reason),
            "targetTenant": .string(tenant.rawValue), "actorTenant": .string(principal.tenant.rawValue),
            "assurance": .string(principal.assurance.description),
            "roles": .array(principal.roles.map(\.rawValue).sorted().map(JSONValue.string)),
        ]
        if let grantID { body["grant"] = .string(grantID) }
        let now = clock.now()
        let actor = principal.issuer + "#" + principal.subject
        _ = try await sink.append(EvidenceRecord(kind: "access.denied", tenant: tenant, time: now, actor: actor, body: .object(body)))
        if principal.tenant != tenant {
            _ = try await sink.append(EvidenceRecord(kind: "access.denied", tenant: principal.tenant, time: now, actor: actor, body: .object(body)))
        }
        return EvidenceError(code, "\(operation.rawValue) refused for \(actor) in tenant \(tenant): \(reason)")
    }
}
