import EvidenceAccess
import EvidenceCore
import EvidenceWebAuthn
import Foundation
import Testing

/// The broker's activation with a passkey step-up: the assertion is verified, its proof is
/// recorded in the grant, and a refused assertion is an `access.denied` record.
@Suite("Passkey step-up before grant activation", .timeLimit(.minutes(1)))
struct StepUpTests {
    let w = PasskeyWorld()
    let log = InMemoryEvidenceLog()

    var tech: Principal { Principal(subject: "tech", issuer: w.owner.issuer, tenant: w.tenant, assurance: .phishingResistant) }
    var approver: Principal { Principal(subject: "approver", issuer: w.owner.issuer, tenant: w.tenant, assurance: .phishingResistant, roles: [.approver]) }

    func approvedGrant(_ broker: AccessBroker) async throws -> AccessGrant {
        let g = try await broker.request(GrantRequest(tenant: w.tenant, target: "dc01.acme.internal", role: "domain-admin",
                                                      reason: "patch", ticket: "CHG-7", duration: 1800), by: tech)
        return try await broker.approve(g.id, tenant: w.tenant, by: approver)
    }

    var broker: AccessBroker { AccessBroker(sink: log, clock: w.clock, defaultPolicy: GrantPolicy(stepUpRequired: true)) }

    @Test("a verified passkey assertion activates the grant and is recorded as its step-up")
    func activates() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let b = broker
        let g = try await approvedGrant(b)
        let c = try StepUpChallenge.forActivation(of: g.id, tenant: w.tenant, random: w.challenge())
        let active = try await b.activate(g.id, tenant: w.tenant, by: tech, passkey: try a.assert(challenge: c), challenge: c, verifier: w.assertions)
        #expect(active.state == .active)
        #expect(active.stepUp?.method == "webauthn")
        #expect(active.stepUp?.userVerified == true)
        #expect(active.stepUp?.signCount == 1)
        #expect(try await log.records(tenant: w.tenant, from: 0).last?.kind == "grant.activated")
    }

    @Test("an assertion without user verification is refused under a UV policy and logged as a denial")
    func refusedWithoutUV() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let b = broker
        let g = try await approvedGrant(b)
        let c = try StepUpChallenge.forActivation(of: g.id, tenant: w.tenant, random: w.challenge())
        await #expect(throws: EvidenceError.self) {
            try await b.activate(g.id, tenant: w.tenant, by: tech, passkey: try a.assert(challenge: c, uv: false), challenge: c, verifier: w.assertions)
        }
        let denied = try await log.records(tenant: w.tenant, from: 0).filter { $0.kind == "access.denied" }
        #expect(denied.count == 1)
        #expect(denied.first?.body["reason"]?.stringValue?.contains("userNotVerified") == true)
        #expect(denied.first?.body["operation"]?.stringValue == "grant.activate")
    }

    @Test("an assertion made for another grant's challenge is refused")
    func otherGrantChallenge() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let b = broker
        let g = try await approvedGrant(b)
        let mine = try StepUpChallenge.forActivation(of: g.id, tenant: w.tenant, random: w.challenge())
        let theirs = try StepUpChallenge.forActivation(of: "g-other", tenant: w.tenant, random: w.challenge())
        await #expect(throws: EvidenceError.self) {
            try await b.activate(g.id, tenant: w.tenant, by: tech, passkey: try a.assert(challenge: theirs), challenge: mine, verifier: w.assertions)
        }
        #expect(try await log.records(tenant: w.tenant, from: 0).last?.body["reason"]?.stringValue?.contains("challengeMismatch") == true)
    }
}
