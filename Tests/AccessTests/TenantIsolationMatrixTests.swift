import EvidenceAccess
import EvidenceCore
import Foundation
import Testing

/// Every broker and evidence operation, attempted on tenant acme by a principal of tenant
/// globex who holds every role there. Each must be refused with `.accessDenied`, leave acme's
/// grants untouched, and leave an `access.denied` record in acme's log (the target) and in
/// globex's log (the actor's home).
@Suite("Tenant isolation matrix", .timeLimit(.minutes(1)))
struct TenantIsolationMatrixTests {
    static func attempt(_ op: AccessOperation, w: AccessWorld, grant: AccessGrant, intruder: Principal) async throws {
        let guarded = GuardedEvidenceLog(sink: w.log, clock: w.clock)
        let b = w.broker
        switch op {
        case .requestGrant: _ = try await b.request(w.request(), by: intruder)
        case .approveGrant: _ = try await b.approve(grant.id, tenant: w.acme, by: intruder)
        case .denyGrant: _ = try await b.deny(grant.id, tenant: w.acme, by: intruder, reason: "x")
        case .activateGrant: _ = try await b.activate(grant.id, tenant: w.acme, by: intruder)
        case .revokeGrant: _ = try await b.revoke(grant.id, tenant: w.acme, by: intruder, reason: "x")
        case .breakGlass: _ = try await b.breakGlass(w.request(), by: intruder)
        case .reviewBreakGlass: _ = try await b.review(grant.id, tenant: w.acme, by: intruder, verdict: .justified, note: "x")
        case .listGrants: _ = try await b.grants(tenant: w.acme, by: intruder)
        case .showGrant: _ = try await b.grant(grant.id, tenant: w.acme, by: intruder)
        case .readEvidence: _ = try await guarded.records(tenant: w.acme, by: intruder)
        case .appendEvidence:
            _ = try await guarded.append(EvidenceRecord(kind: "session.note", tenant: w.acme, time: w.clock.now()), by: intruder)
        }
    }

    @Test("refused and logged in both tenants", arguments: AccessOperation.allCases)
    func crossTenantOperation(_ op: AccessOperation) async throws {
        let w = AccessWorld()
        let im = w.person("oncall", roles: [.incidentManager])
        let grant = try await w.broker.breakGlass(w.request(), by: im)
        let before = try await w.log.records(tenant: w.acme, from: 0).count
        // Same subject and issuer as acme's requester, every role, strongest assurance: only the tenant differs.
        let intruder = w.person("oncall", tenant: w.globex, roles: Set(TenantRole.allCases))
        var code: EvidenceError.Code?
        do { try await Self.attempt(op, w: w, grant: grant, intruder: intruder) } catch let e as EvidenceError { code = e.code }
        #expect(code == .accessDenied)
        let acmeNew = Array(try await w.log.records(tenant: w.acme, from: UInt64(before)))
        #expect(acmeNew.map(\.kind) == ["access.denied"])
        #expect(acmeNew.first?.body["operation"]?.stringValue == op.rawValue)
        #expect(acmeNew.first?.body["actorTenant"]?.stringValue == "globex")
        let home = try await w.denials(w.globex)
        #expect(home.count == 1)
        #expect(home.first?.body["targetTenant"]?.stringValue == "acme")
        #expect(try await w.broker.grant(grant.id, tenant: w.acme, by: w.auditor) == grant)
    }

    @Test("inside its own tenant the same principal may read the evidence")
    func ownTenantReadAllowed() async throws {
        let w = AccessWorld()
        let guarded = GuardedEvidenceLog(sink: w.log, clock: w.clock)
        _ = try await w.broker.request(w.request(), by: w.tech)
        #expect(try await guarded.records(tenant: w.acme, by: w.auditor).count == 1)
    }

    @Test("reading evidence without a role is refused and logged")
    func readNeedsRole() async throws {
        let w = AccessWorld()
        let guarded = GuardedEvidenceLog(sink: w.log, clock: w.clock)
        #expect(await expectRefusal { try await guarded.records(tenant: w.acme, by: w.tech) } != nil)
        #expect(try await w.denials(w.acme).first?.body["operation"]?.stringValue == "evidence.read")
    }

    @Test("appended evidence is attributed to the principal, not to a name it supplies")
    func appendAttribution() async throws {
        let w = AccessWorld()
        let guarded = GuardedEvidenceLog(sink: w.log, clock: w.clock)
        _ = try await guarded.append(EvidenceRecord(kind: "session.note", tenant: w.acme, time: w.clock.now(), actor: "someone#else"), by: w.admin)
        #expect(try await w.log.records(tenant: w.acme, from: 0).first?.actor == "https://idp.msp.example#admin")
    }
}
