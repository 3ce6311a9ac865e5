import EvidenceCore
import EvidenceSAML
import Foundation

/// `nis2ctl verify saml-response`: checks a SAMLResponse the way the service provider would,
/// so integrators can debug their IdP set-up.
enum SAMLCommands {
    static let all: [CommandSpec] = [verifyResponse]

    static let verifyResponse = CommandSpec(
        path: ["verify", "saml-response"], summary: "check a SAMLResponse against IdP metadata",
        help: """
        usage: nis2ctl verify saml-response FILE --idp-metadata FILE --sp-entity-id ID --acs-url URL
                                            [--request-id ID] [--now ISO-8601] [--tenant ID]
                                            [--require assertion|response|either|both]

        FILE holds the SAMLResponse as posted to the ACS (base64) or its raw XML. Runs every
        check of the SAML service provider: no DOCTYPE, size bounds, XML signatures (exclusive
        C14N, RSA-SHA256 or ECDSA-SHA256, SHA-256) with the certificates of the IdP metadata
        only, signature-wrapping defences, issuer, audience, destination, bearer recipient,
        InResponseTo, validity windows, AuthnContextClassRef to assurance level.

          --idp-metadata FILE  the IdP's SAML metadata (EntityDescriptor with IDPSSODescriptor)
          --sp-entity-id ID    this SP's entity id (the expected Audience)
          --acs-url URL        this SP's Assertion Consumer Service URL (Destination, Recipient)
          --request-id ID      the AuthnRequest id; without it, InResponseTo is not checked
          --now ISO-8601       check validity at this instant instead of the system clock
          --tenant ID          tenant of the printed principal (default: msp)
          --require WHAT       which signature is required (default: either, covering the assertion)
        exit: 0 valid (the principal as JSON on stdout), 1 refused (the reason on stderr), 2 usage
        """,
        options: ["idp-metadata", "sp-entity-id", "acs-url", "request-id", "now", "tenant", "require"]
    ) { a in
        guard a.positional.count == 1 else { throw UsageError("give exactly one FILE holding the SAMLResponse") }
        let responseText = try readBounded(a.positional[0], what: "SAMLResponse file", limit: 1 << 20)
        let metadataBytes = Array(try readBounded(try a.required("idp-metadata"), what: "IdP metadata", limit: 1 << 20).utf8)
        let now: Date?
        if let text = a.value("now") {
            do { now = try Timestamp.parse(text) } catch { throw UsageError("--now '\(text)' is not an ISO-8601 time with offset, e.g. 2026-01-30T09:00:00Z") }
        } else {
            now = nil
        }
        let requirement: SAMLSignatureRequirement
        switch a.value("require") ?? "either" {
        case "assertion": requirement = .assertion
        case "response": requirement = .response
        case "either": requirement = .assertionOrResponse
        case "both": requirement = .assertionAndResponse
        case let other: throw UsageError("--require must be assertion, response, either or both, not '\(other)'")
        }
        let tenant: TenantID
        do { tenant = try TenantID(a.value("tenant") ?? "msp") } catch let e as EvidenceError { throw UsageError(e.message) }
        let provider: SAMLServiceProvider
        do {
            let idp = try SAMLIdentityProviderMetadata(xml: metadataBytes)
            let configuration = try SAMLServiceProviderConfiguration(
                entityID: try a.required("sp-entity-id"), assertionConsumerServiceURL: try a.required("acs-url"),
                identityProvider: idp, tenant: tenant, signatureRequirement: requirement,
                acceptsUnsolicitedResponses: a.value("request-id") == nil)
            let clock: any WallClock = now.map { ManualWallClock($0) } ?? SystemWallClock()
            provider = SAMLServiceProvider(configuration: configuration, clock: clock)
        } catch let e as SAMLError {
            throw UsageError(e.message)
        }
        do {
            let assertion = try await provider.verify(SAMLPostedResponse(samlResponse: responseText, requestID: a.value("request-id")))
            let principal = try provider.principal(for: assertion)
            Console.json(json(principal, assertion))
            return .success
        } catch let e as SAMLError {
            Console.err("SAML response refused (\(e.code)): \(e.message)")
            return .verificationFailed
        }
    }

    static func json(_ p: Principal, _ a: SAMLVerifiedAssertion) -> JSONValue {
        .object([
            "subject": .string(p.subject), "issuer": .string(p.issuer), "tenant": .string(p.tenant.rawValue),
            "displayName": p.displayName.map(JSONValue.string) ?? .null, "assurance": .string(p.assurance.description),
            "methods": .array(p.methods.map(JSONValue.string)), "acr": p.acr.map(JSONValue.string) ?? .null,
            "authenticatedAt": p.authenticatedAt.map { .string(Timestamp.format($0)) } ?? .null,
            "saml": .object([
                "assertionID": .string(a.assertionID), "nameIDFormat": a.nameIDFormat.map(JSONValue.string) ?? .null,
                "sessionIndex": a.sessionIndex.map(JSONValue.string) ?? .null,
                "validUntil": .string(Timestamp.format(a.validUntil)),
                "responseSigned": .bool(a.responseSigned), "assertionSigned": .bool(a.assertionSigned),
                "signingCertificatesSHA256": .array(a.signingCertificates.map(JSONValue.string)),
                "attributes": .object(a.attributes.mapValues { .array($0.map(JSONValue.string)) }),
            ]),
        ])
    }

    static func readBounded(_ path: String, what: String, limit: Int) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot read the \(what) '\(path)'") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw UsageError("the \(what) '\(path)' is larger than \(limit) bytes") }
        return String(decoding: data, as: UTF8.self)
    }
}
