import EvidenceAccess
import EvidenceCore
import Foundation
import Testing

@Suite("Just-in-time grants", .timeLimit(.minutes(1)))
struct GrantLifecycleTests {
    @Test("a request is pending and logged with the requester and policy")
    func requestIsLogged() async throws {
        let w = AccessWorld()
        let g = try await w.broker.request(w.request(), by: w.tech)
        #expect(g.state == .pending)
        let r = try #require(try await w.log.records(tenant: w.acme, from: 0).first)
        #expect(r.kind == "grant.requested")
        #expect(r.actor == "https://idp.msp.example#tech")
        #expect(r.body["grant"]?["target"]?.stringValue == "dc01.acme.internal")
        #expect(r.body["policy"]?["approversRequired"]?.numberValue == 1)
    }

    @Test("one approval makes the grant approved; activation starts the clock")
    func approveThenActivate() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        #expect(g.state == .approved)
        let a = try await w.broker.activate(g.id, tenant: w.acme, by: w.tech)
        #expect(a.state == .active)
        #expect(a.expiresAt == w.clock.now() + 1800)
        #expect(try await w.kinds(w.acme) == ["grant.requested", "grant.approved", "grant.activated"])
    }

    @Test("a requester can never approve their own request, even as approver")
    func noSelfApproval() async throws {
        let w = AccessWorld()
        let me = w.person("boss", roles: [.approver, .admin])
        let g = try await w.broker.request(w.request(), by: me)
        let e = await expectRefusal { try await w.broker.approve(g.id, tenant: w.acme, by: me) }
        #expect(e?.message.contains("own request") == true)
        #expect(try await w.denials(w.acme).count == 1)
    }

    @Test("approving needs the approver or admin role")
    func approverRoleNeeded() async throws {
        let w = AccessWorld()
        let g = try await w.broker.request(w.request(), by: w.tech)
        #expect(await expectRefusal { try await w.broker.approve(g.id, tenant: w.acme, by: w.auditor) } != nil)
        #expect(try await w.denials(w.acme).first?.body["operation"]?.stringValue == "grant.approve")
    }

    @Test("two approvers needed: the same person twice does not count")
    func distinctApprovers() async throws {
        let w = AccessWorld(policy: GrantPolicy(approversRequired: 2))
        let g = try await w.broker.request(w.request(), by: w.tech)
        let once = try await w.broker.approve(g.id, tenant: w.acme, by: w.approver)
        #expect(once.state == .pending)
        #expect(await expectRefusal { try await w.broker.approve(g.id, tenant: w.acme, by: w.approver) } != nil)
        let twice = try await w.broker.approve(g.id, tenant: w.acme, by: w.approver2)
        #expect(twice.state == .approved)
        #expect(twice.approvals.count == 2)
    }

    @Test("a duration above the policy maximum is refused and logged")
    func durationBounded() async throws {
        let w = AccessWorld(policy: GrantPolicy(maxDuration: 3600))
        #expect(await expectRefusal { try await w.broker.request(w.request(7200), by: w.tech) } != nil)
        #expect(try await w.kinds(w.acme) == ["access.denied"])
    }

    @Test("assurance below the policy is refused")
    func assuranceBelowPolicy() async throws {
        let w = AccessWorld(policy: GrantPolicy(requiredAssurance: .phishingResistant))
        let weak = w.person("tech", assurance: .password)
        let e = await expectRefusal { try await w.broker.request(w.request(), by: weak) }
        #expect(e?.message.contains("phishing-resistant") == true)
    }

    @Test("a request without reason or ticket is refused")
    func reasonOrTicket() async throws {
        let w = AccessWorld()
        let r = GrantRequest(tenant: w.acme, target: "dc01", role: "admin", duration: 60)
        #expect(await expectRefusal { try await w.broker.request(r, by: w.tech) } != nil)
    }

    @Test("a denial is a logged, terminal decision")
    func denyIsTerminal() async throws {
        let w = AccessWorld()
        let g = try await w.broker.request(w.request(), by: w.tech)
        let d = try await w.broker.deny(g.id, tenant: w.acme, by: w.approver, reason: "no change window")
        #expect(d.state == .denied)
        #expect(await expectRefusal { try await w.broker.approve(g.id, tenant: w.acme, by: w.approver2) } != nil)
        #expect(try await w.kinds(w.acme) == ["grant.requested", "grant.denied", "access.denied"])
    }

    @Test("only the requester activates an approved grant")
    func onlyRequesterActivates() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.approver) } != nil)
    }

    @Test("an active grant expires by the injected clock and the expiry is logged")
    func expiry() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        _ = try await w.broker.activate(g.id, tenant: w.acme, by: w.tech)
        w.clock.advance(by: 1799)
        #expect(try await w.broker.expireDue(tenant: w.acme).isEmpty)
        w.clock.advance(by: 1)
        let expired = try await w.broker.expireDue(tenant: w.acme)
        #expect(expired.map(\.id) == [g.id])
        #expect(try await w.broker.grant(g.id, tenant: w.acme, by: w.tech).state == .expired)
        #expect(try await w.kinds(w.acme).last == "grant.expired")
    }

    @Test("revocation ends an active grant; the requester cannot re-activate it")
    func revocation() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        _ = try await w.broker.activate(g.id, tenant: w.acme, by: w.tech)
        let r = try await w.broker.revoke(g.id, tenant: w.acme, by: w.admin, reason: "suspicious commands")
        #expect(r.state == .revoked)
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.tech) } != nil)
    }

    @Test("revoking someone else's grant needs admin or approver")
    func revokeNeedsRole() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        #expect(await expectRefusal { try await w.broker.revoke(g.id, tenant: w.acme, by: w.person("other"), reason: "x") } != nil)
    }

    @Test("step-up policy: activation without a passkey proof is refused, with a fresh proof it works")
    func stepUp() async throws {
        let w = AccessWorld(policy: GrantPolicy(stepUpRequired: true))
        let g = try await w.approvedGrant()
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.tech) } != nil)
        let stale = StepUpProof(credentialID: "cred", subject: "tech", issuer: "https://idp.msp.example",
                                verifiedAt: w.clock.now() - 600, userVerified: true, signCount: 3)
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.tech, stepUp: stale) } != nil)
        var noUV = stale; noUV.verifiedAt = w.clock.now(); noUV.userVerified = false
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.tech, stepUp: noUV) } != nil)
        var other = noUV; other.userVerified = true; other.subject = "approver"
        #expect(await expectRefusal { try await w.broker.activate(g.id, tenant: w.acme, by: w.tech, stepUp: other) } != nil)
        var good = other; good.subject = "tech"
        let a = try await w.broker.activate(g.id, tenant: w.acme, by: w.tech, stepUp: good)
        #expect(a.stepUp?.credentialID == "cred")
    }

    @Test("break-glass is active at once, needs a role and a reason, and awaits review by someone else")
    func breakGlass() async throws {
        let w = AccessWorld()
        let im = w.person("oncall", roles: [.incidentManager])
        #expect(await expectRefusal { try await w.broker.breakGlass(w.request(), by: w.tech) } != nil)
        var noReason = w.request(); noReason.reason = nil
        #expect(await expectRefusal { try await w.broker.breakGlass(noReason, by: im) } != nil)
        let g = try await w.broker.breakGlass(w.request(), by: im)
        #expect(g.state == .active)
        #expect(g.awaitsReview)
        #expect(await expectRefusal { try await w.broker.review(g.id, tenant: w.acme, by: im, verdict: .justified, note: "") } != nil)
        let r = try await w.broker.review(g.id, tenant: w.acme, by: w.auditor, verdict: .justified, note: "ransomware containment")
        #expect(!r.awaitsReview)
        #expect(try await w.kinds(w.acme).contains("grant.reviewed"))
    }

    @Test("state is rebuilt from the log alone by a fresh broker")
    func stateFromLog() async throws {
        let w = AccessWorld()
        let g = try await w.approvedGrant()
        let fresh = AccessBroker(sink: w.log, clock: w.clock)
        let seen = try await fresh.grant(g.id, tenant: w.acme, by: w.tech)
        #expect(seen.state == .approved)
        #expect(seen.approvals.map(\.subject) == ["approver"])
        _ = try await fresh.activate(g.id, tenant: w.acme, by: w.tech)
        #expect(try await w.broker.grant(g.id, tenant: w.acme, by: w.tech).state == .active)
    }

    @Test("without a tenant role a person lists only their own grants")
    func listVisibility() async throws {
        let w = AccessWorld()
        _ = try await w.broker.request(w.request(), by: w.tech)
        _ = try await w.broker.request(w.request(), by: w.person("tech2"))
        #expect(try await w.broker.grants(tenant: w.acme, by: w.tech).count == 1)
        #expect(try await w.broker.grants(tenant: w.acme, by: w.auditor).count == 2)
    }

    @Test("an unknown grant id is refused as not found and logged")
    func unknownGrant() async throws {
        let w = AccessWorld()
        #expect(await expectRefusal(.notFound) { try await w.broker.approve("g-404", tenant: w.acme, by: w.approver) } != nil)
        #expect(try await w.denials(w.acme).count == 1)
    }
}
