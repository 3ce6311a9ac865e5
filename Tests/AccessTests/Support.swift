import EvidenceAccess
import EvidenceCore
import Foundation

/// A small world: two tenants, named people with roles, a manual clock, and the log.
struct AccessWorld {
    let log = InMemoryEvidenceLog()
    let clock = ManualWallClock(Date(timeIntervalSince1970: 1_780_000_000))
    let acme = try! TenantID("acme")
    let globex = try! TenantID("globex")
    let broker: AccessBroker

    init(policy: GrantPolicy = GrantPolicy()) {
        let counter = Counter()
        broker = AccessBroker(sink: log, clock: clock, defaultPolicy: policy, newGrantID: { "g-\(counter.next())" })
    }

    func person(_ name: String, tenant: TenantID? = nil, roles: Set<TenantRole> = [], assurance: AssuranceLevel = .phishingResistant) -> Principal {
        Principal(subject: name, issuer: "https://idp.msp.example", tenant: tenant ?? acme, assurance: assurance, roles: roles)
    }

    var tech: Principal { person("tech") }
    var approver: Principal { person("approver", roles: [.approver]) }
    var approver2: Principal { person("approver2", roles: [.approver]) }
    var admin: Principal { person("admin", roles: [.admin]) }
    var auditor: Principal { person("auditor", roles: [.auditor]) }

    func request(_ duration: TimeInterval = 1800, tenant: TenantID? = nil) -> GrantRequest {
        GrantRequest(tenant: tenant ?? acme, target: "dc01.acme.internal", role: "domain-admin", reason: "patch KB5034441", ticket: "CHG-1042", duration: duration)
    }

    func kinds(_ t: TenantID) async throws -> [String] { try await log.records(tenant: t, from: 0).map(\.kind) }
    func denials(_ t: TenantID) async throws -> [EvidenceRecord] { try await log.records(tenant: t, from: 0).filter { $0.kind == "access.denied" } }

    /// Requests and approves a grant for `tech`.
    func approvedGrant() async throws -> AccessGrant {
        let g = try await broker.request(request(), by: tech)
        return try await broker.approve(g.id, tenant: acme, by: approver)
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

import Synchronization

/// Runs `body`, expecting an `EvidenceError` with `code`; returns it.
@discardableResult
func expectRefusal(_ code: EvidenceError.Code = .accessDenied, _ body: () async throws -> Any) async -> EvidenceError? {
    do { _ = try await body() } catch let e as EvidenceError {
        return e.code == code ? e : nil
    } catch { return nil }
    return nil
}
