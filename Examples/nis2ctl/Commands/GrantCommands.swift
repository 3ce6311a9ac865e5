import EvidenceAccess
import EvidenceCore
import Foundation

/// `nis2ctl grant …`: just-in-time access in one tenant. Every decision, refusals included,
/// is a record in the tenant's log; the grants shown are rebuilt from that log.
///
/// Who acts: `--principal FILE` (the JSON that `nis2ctl verify id-token` or `login oidc`
/// prints), or `--as SUBJECT` with `--issuer`, `--assurance` and `--with-roles`, which the
/// record marks as asserted by the local operator.
enum GrantCommands {
    static let all: [CommandSpec] = [request, approve, deny, activate, revoke, breakGlass, review, list]
    static let identity: Set<String> = ["store", "tenant", "principal", "as", "issuer", "assurance", "with-roles"]
    static let identityHelp = """
      --principal FILE       who acts: principal JSON as printed by 'nis2ctl verify id-token' or 'login oidc'
      --as SUBJECT           or name the person directly (asserted by the operator running the CLI)
      --issuer URL           with --as: the issuer (default: local)
      --assurance LEVEL      with --as: password | mfa | phishing-resistant (default: mfa)
      --with-roles LIST      with --as: tenant roles, comma separated: admin, approver, auditor, incidentManager
    """

    static let request = CommandSpec(
        path: ["grant", "request"], summary: "ask for time-limited privileged access",
        help: """
        usage: nis2ctl grant request --store DIR --tenant ID --target T --role R (--reason TEXT | --ticket REF)
                                     --duration SECONDS|Nm|Nh (--principal FILE | --as SUBJECT ...)
        \(identityHelp)
        """,
        options: identity.union(["target", "role", "reason", "ticket", "duration"])
    ) { a in
        try await withBroker(a) { b, t, p in
            try await b.request(try grantRequest(a, t), by: p)
        }
    }

    static let approve = CommandSpec(
        path: ["grant", "approve"], summary: "approve a pending grant (never your own)",
        help: "usage: nis2ctl grant approve --store DIR --tenant ID --id GRANT (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["id"])
    ) { a in
        try await withBroker(a) { b, t, p in try await b.approve(try a.required("id"), tenant: t, by: p) }
    }

    static let deny = CommandSpec(
        path: ["grant", "deny"], summary: "deny a grant before it is active",
        help: "usage: nis2ctl grant deny --store DIR --tenant ID --id GRANT --reason TEXT (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["id", "reason"])
    ) { a in
        try await withBroker(a) { b, t, p in try await b.deny(try a.required("id"), tenant: t, by: p, reason: try a.required("reason")) }
    }

    static let activate = CommandSpec(
        path: ["grant", "activate"], summary: "start an approved grant (requester only)",
        help: "usage: nis2ctl grant activate --store DIR --tenant ID --id GRANT (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["id"])
    ) { a in
        try await withBroker(a) { b, t, p in try await b.activate(try a.required("id"), tenant: t, by: p) }
    }

    static let revoke = CommandSpec(
        path: ["grant", "revoke"], summary: "end a pending, approved or active grant",
        help: "usage: nis2ctl grant revoke --store DIR --tenant ID --id GRANT --reason TEXT (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["id", "reason"])
    ) { a in
        try await withBroker(a) { b, t, p in try await b.revoke(try a.required("id"), tenant: t, by: p, reason: try a.required("reason")) }
    }

    static let breakGlass = CommandSpec(
        path: ["grant", "break-glass"], summary: "emergency access at once; reviewed afterwards",
        help: """
        usage: nis2ctl grant break-glass --store DIR --tenant ID --target T --role R --reason TEXT [--ticket REF]
                                         [--duration SECONDS|Nm|Nh] (--principal FILE | --as SUBJECT ...)
        \(identityHelp)
        """,
        options: identity.union(["target", "role", "reason", "ticket", "duration"])
    ) { a in
        try await withBroker(a) { b, t, p in try await b.breakGlass(try grantRequest(a, t, durationRequired: false), by: p) }
    }

    static let review = CommandSpec(
        path: ["grant", "review"], summary: "review a break-glass grant after the fact",
        help: "usage: nis2ctl grant review --store DIR --tenant ID --id GRANT --verdict justified|unjustified --note TEXT (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["id", "verdict", "note"])
    ) { a in
        try await withBroker(a) { b, t, p in
            guard let v = GrantReview.Verdict(rawValue: try a.required("verdict")) else { throw UsageError("--verdict must be justified or unjustified") }
            return try await b.review(try a.required("id"), tenant: t, by: p, verdict: v, note: try a.required("note"))
        }
    }

    static let list = CommandSpec(
        path: ["grant", "list"], summary: "grants of a tenant as rebuilt from its log (JSON lines)",
        help: "usage: nis2ctl grant list --store DIR --tenant ID [--state STATE] (--principal FILE | --as SUBJECT ...)\n\(identityHelp)",
        options: identity.union(["state"])
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        defer { try? store.close() }
        let t = try a.tenant()
        try store.requireTenant(t)
        let broker = AccessBroker(sink: store, clock: SystemWallClock())
        let state = try a.value("state").map { s in
            guard let st = GrantState(rawValue: s) else { throw UsageError("--state must be one of \(GrantState.allCases.map(\.rawValue).joined(separator: ", "))") }
            return st
        }
        for g in try await broker.grants(tenant: t, by: try principal(a, t)) where state == nil || g.state == state {
            Console.json(g.jsonValue)
        }
        return .success
    }

    // MARK: Shared

    static func withBroker(_ a: ParsedArguments, _ body: (AccessBroker, TenantID, Principal) async throws -> AccessGrant) async throws -> ExitCode {
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        defer { try? store.close() }
        let t = try a.tenant()
        try store.requireTenant(t)
        let broker = AccessBroker(sink: store, clock: SystemWallClock())
        let p = try principal(a, t)
        let g = try await body(broker, t, p)
        Console.json(g.jsonValue)
        return .success
    }

    static func grantRequest(_ a: ParsedArguments, _ t: TenantID, durationRequired: Bool = true) throws -> GrantRequest {
        let d: TimeInterval
        if let raw = a.value("duration") { d = try duration(raw) } else if durationRequired {
            throw UsageError("missing required option --duration")
        } else { d = 0 }
        return GrantRequest(tenant: t, target: try a.required("target"), role: try a.required("role"),
                            reason: a.value("reason"), ticket: a.value("ticket"), duration: d)
    }

    /// `900`, `15m` or `2h`.
    static func duration(_ s: String) throws -> TimeInterval {
        let unit: Double = s.hasSuffix("h") ? 3600 : s.hasSuffix("m") ? 60 : s.hasSuffix("s") ? 1 : 1
        let digits = s.last?.isLetter == true ? String(s.dropLast()) : s
        guard let n = UInt32(digits), n > 0 else { throw UsageError("--duration must be a positive number of seconds, or Nm / Nh, not '\(s)'") }
        return Double(n) * unit
    }

    /// The acting principal from `--principal FILE` or `--as`.
    static func principal(_ a: ParsedArguments, _ tenant: TenantID) throws -> Principal {
        if let file = a.value("principal") {
            guard a.value("as") == nil else { throw UsageError("give either --principal or --as, not both") }
            guard let d = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read principal file \(file)") }
            do { return try PrincipalJSON.decode(try JSONParser.parse(d, limits: JSONLimits(maxBytes: 64 << 10))) } catch let e as EvidenceError {
                throw UsageError("principal file \(file): \(e.message)")
            }
        }
        guard let subject = a.value("as"), !subject.isEmpty else { throw UsageError("say who acts: --principal FILE or --as SUBJECT") }
        let level = a.value("assurance") ?? "mfa"
        guard let assurance = AssuranceLevel.allCases.first(where: { $0.description == level }) else {
            throw UsageError("--assurance must be password, mfa or phishing-resistant, not '\(level)'")
        }
        var roles: Set<TenantRole> = []
        for r in (a.value("with-roles") ?? "").split(separator: ",") {
            guard let role = TenantRole(rawValue: r.trimmingCharacters(in: .whitespaces)) else {
                throw UsageError("unknown role '\(r)'; roles are \(TenantRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            roles.insert(role)
        }
        return Principal(subject: subject, issuer: a.value("issuer") ?? "local", tenant: tenant, assurance: assurance,
                         methods: ["operator-asserted"], roles: roles)
    }
}

/// The JSON form of a principal that the identity commands print and the grant commands read.
enum PrincipalJSON {
    static func encode(_ p: Principal) -> JSONValue {
        var o: [String: JSONValue] = [
            "subject": .string(p.subject), "issuer": .string(p.issuer), "tenant": .string(p.tenant.rawValue),
            "assurance": .string(p.assurance.description), "methods": .array(p.methods.map(JSONValue.string)),
            "roles": .array(p.roles.map(\.rawValue).sorted().map(JSONValue.string)),
        ]
        if let n = p.displayName { o["displayName"] = .string(n) }
        if let acr = p.acr { o["acr"] = .string(acr) }
        if let at = p.authenticatedAt { o["authenticatedAt"] = .string(Timestamp.format(at)) }
        return .object(o)
    }

    static func decode(_ v: JSONValue) throws -> Principal {
        guard let s = v["subject"]?.stringValue, let i = v["issuer"]?.stringValue, let t = v["tenant"]?.stringValue,
              let a = v["assurance"]?.stringValue, let level = AssuranceLevel.allCases.first(where: { $0.description == a }) else {
            throw EvidenceError(.malformedInput, "a principal needs subject, issuer, tenant and assurance (password, mfa, phishing-resistant)")
        }
        let roles = Set((v["roles"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(TenantRole.init(rawValue:)) })
        return Principal(subject: s, issuer: i, tenant: try TenantID(t), displayName: v["displayName"]?.stringValue, assurance: level,
                         methods: (v["methods"]?.arrayValue ?? []).compactMap(\.stringValue), acr: v["acr"]?.stringValue,
                         authenticatedAt: try v["authenticatedAt"]?.stringValue.map(Timestamp.parse), roles: roles)
    }
}
