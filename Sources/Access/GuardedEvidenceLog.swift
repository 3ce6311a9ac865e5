import EvidenceCore
import Foundation

/// A tenant's evidence log as principals see it: reads need the auditor, admin or incident
/// manager role, appends need the admin or incident manager role, and both only inside the
/// principal's own tenant. Every refusal is an `access.denied` record (see
/// `AccessDenialRecorder` for where it goes).
///
/// Guarantees: an appended record is attributed to the principal who appended it (its
/// `actor` is overwritten), so nobody writes evidence in someone else's name.
public struct GuardedEvidenceLog: Sendable {
    public let sink: any EvidenceRecordSink
    private let denials: AccessDenialRecorder

    public init(sink: any EvidenceRecordSink, clock: any WallClock) {
        self.sink = sink; denials = AccessDenialRecorder(sink: sink, clock: clock)
    }

    public func records(tenant: TenantID, from index: UInt64 = 0, by p: Principal) async throws -> [EvidenceRecord] {
        try await check(.readEvidence, tenant, p, roles: [.auditor, .admin, .incidentManager])
        return try await sink.records(tenant: tenant, from: index)
    }

    public func append(_ record: EvidenceRecord, by p: Principal) async throws -> UInt64 {
        try await check(.appendEvidence, record.tenant, p, roles: [.admin, .incidentManager])
        var r = record
        r.actor = p.issuer + "#" + p.subject
        return try await sink.append(r)
    }

    private func check(_ op: AccessOperation, _ tenant: TenantID, _ p: Principal, roles: Set<TenantRole>) async throws {
        guard p.tenant == tenant else {
            throw try await denials.deny(op, tenant: tenant, by: p, reason: "principal belongs to tenant \(p.tenant); it cannot act in tenant \(tenant)")
        }
        guard !p.roles.isDisjoint(with: roles) else {
            throw try await denials.deny(op, tenant: tenant, by: p, reason: "\(op.rawValue) needs one of the roles \(roles.map(\.rawValue).sorted().joined(separator: ", "))")
        }
    }
}
