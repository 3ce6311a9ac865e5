import EvidenceCore
import Foundation

/// Which signatures a response must carry (the signed part must always cover the assertion).
public enum SAMLSignatureRequirement: String, Hashable, Sendable {
    /// The assertion itself must be signed; a response signature is checked when present.
    case assertion
    /// The Response must be signed (covering its one assertion); an assertion signature is checked when present.
    case response
    /// Either a signed assertion or a signed Response around it (the default; both is fine).
    case assertionOrResponse
    /// Both must be signed.
    case assertionAndResponse

    var requiresAssertionSignature: Bool { self == .assertion || self == .assertionAndResponse }
    var requiresResponseSignature: Bool { self == .response || self == .assertionAndResponse }
}

/// Everything the service provider needs to accept a response from one IdP for one tenant.
///
/// Refuses (init throws): an empty entity id or ACS URL, or a clock skew above 5 minutes.
public struct SAMLServiceProviderConfiguration: Sendable {
    /// This SP's entity id: the Audience the assertion must name.
    public var entityID: String
    /// This SP's HTTP-POST Assertion Consumer Service URL: Destination and bearer Recipient.
    public var assertionConsumerServiceURL: String
    public var identityProvider: SAMLIdentityProviderMetadata
    /// The tenant principals of this IdP belong to.
    public var tenant: TenantID
    public var signatureRequirement: SAMLSignatureRequirement
    /// Tolerated difference between the IdP's clock and ours, at most 300 s.
    public var clockSkew: TimeInterval
    public var assurance: SAMLAssuranceMapping
    public var limits: SAMLParseLimits
    /// Accept IdP-initiated responses (no AuthnRequest id to check InResponseTo against).
    public var acceptsUnsolicitedResponses: Bool

    public static let maximumClockSkew: TimeInterval = 300

    public init(entityID: String, assertionConsumerServiceURL: String, identityProvider: SAMLIdentityProviderMetadata,
                tenant: TenantID, signatureRequirement: SAMLSignatureRequirement = .assertionOrResponse,
                clockSkew: TimeInterval = 120, assurance: SAMLAssuranceMapping = .standard,
                limits: SAMLParseLimits = SAMLParseLimits(), acceptsUnsolicitedResponses: Bool = false) throws(SAMLError) {
        guard !entityID.isEmpty else { throw SAMLError(.configuration, "the SP entity id is empty") }
        guard !assertionConsumerServiceURL.isEmpty else { throw SAMLError(.configuration, "the ACS URL is empty") }
        guard (0...Self.maximumClockSkew).contains(clockSkew) else {
            throw SAMLError(.configuration, "a clock skew of \(clockSkew) s is outside 0...\(Int(Self.maximumClockSkew)) s; synchronise the clocks (NTS) instead")
        }
        self.entityID = entityID
        self.assertionConsumerServiceURL = assertionConsumerServiceURL
        self.identityProvider = identityProvider
        self.tenant = tenant
        self.signatureRequirement = signatureRequirement
        self.clockSkew = clockSkew
        self.assurance = assurance
        self.limits = limits
        self.acceptsUnsolicitedResponses = acceptsUnsolicitedResponses
    }
}

/// What the browser posted to the ACS, plus the id of the AuthnRequest this SP sent (if any).
public struct SAMLPostedResponse: Hashable, Sendable {
    /// The `SAMLResponse` form value (base64), or the raw XML.
    public var samlResponse: String
    /// The ID of the AuthnRequest this SP issued for this login; nil for IdP-initiated logins.
    public var requestID: String?

    public init(samlResponse: String, requestID: String? = nil) {
        self.samlResponse = samlResponse
        self.requestID = requestID
    }
}

/// The content of an assertion that passed every check, read only from the signed element.
public struct SAMLVerifiedAssertion: Hashable, Sendable {
    public var assertionID: String
    public var issuer: String
    public var nameID: String
    public var nameIDFormat: String?
    public var sessionIndex: String?
    public var authnInstant: Date
    public var authnContextClassRef: String?
    /// Attribute values by Name (FriendlyName too, when given).
    public var attributes: [String: [String]]
    /// The latest instant at which the assertion is still valid (replay entries live until then).
    public var validUntil: Date
    public var responseSigned: Bool
    public var assertionSigned: Bool
    /// SHA-256 fingerprints of the certificates that verified the signatures.
    public var signingCertificates: [String]
}

/// A SAML 2.0 Web SSO service provider (HTTP-POST binding) as an `IdentityProvider`.
///
/// Guarantees: `authenticate` returns a principal only when the response is well-formed
/// within bounds, has no DOCTYPE, carries the signatures the configuration requires and they
/// verify with a metadata certificate over exactly the elements read (XSW-safe), the
/// issuer, audience, destination, recipient, InResponseTo and time windows match, the
/// authentication context maps to an assurance level, and the assertion was not used before.
/// Refuses everything else with a `SAMLError` that names the check that failed.
public struct SAMLServiceProvider: IdentityProvider {
    public typealias LoginResponse = SAMLPostedResponse

    public let configuration: SAMLServiceProviderConfiguration
    public let clock: any WallClock
    public let replayCache: SAMLReplayCache

    public init(configuration: SAMLServiceProviderConfiguration, clock: any WallClock, replayCache: SAMLReplayCache? = nil) {
        self.configuration = configuration
        self.clock = clock
        self.replayCache = replayCache ?? SAMLReplayCache(clock: clock)
    }

    public func authenticate(_ response: SAMLPostedResponse) async throws -> Principal {
        try principal(for: try await verify(response))
    }

    /// All checks, then the replay cache; returns the verified assertion.
    public func verify(_ response: SAMLPostedResponse) async throws(SAMLError) -> SAMLVerifiedAssertion {
        let assertion = try checkWithoutReplay(response)
        try await replayCache.admit(assertionID: assertion.assertionID, issuer: assertion.issuer, until: assertion.validUntil)
        return assertion
    }

    /// Every check except the replay cache: for diagnostics and fuzzing, never for a login
    /// (a login must go through `verify` or `authenticate`, which also refuse replays).
    public func checkWithoutReplay(_ response: SAMLPostedResponse) throws(SAMLError) -> SAMLVerifiedAssertion {
        let xml = try Self.decodePosted(response.samlResponse, limits: configuration.limits)
        return try SAMLResponseCheck(configuration: configuration, now: clock.now(), requestID: response.requestID).verify(xml)
    }

    /// The principal for a verified assertion: NameID as subject, the IdP as issuer.
    public func principal(for assertion: SAMLVerifiedAssertion) throws(SAMLError) -> Principal {
        let level = try configuration.assurance.level(for: assertion.authnContextClassRef)
        let displayName = ["displayName", "urn:oid:2.16.840.1.113730.3.1.241", "cn", "urn:oid:2.5.4.3", "givenName", "urn:oid:2.5.4.42"]
            .lazy.compactMap { assertion.attributes[$0]?.first }.first
        return Principal(subject: assertion.nameID, issuer: assertion.issuer, tenant: configuration.tenant,
                         displayName: displayName, assurance: level, methods: SAMLAssuranceMapping.methods(for: level),
                         acr: assertion.authnContextClassRef, authenticatedAt: assertion.authnInstant)
    }

    /// The XML of a posted SAMLResponse: raw XML as is, otherwise base64 (line breaks allowed).
    public static func decodePosted(_ posted: String, limits: SAMLParseLimits) throws(SAMLError) -> [UInt8] {
        let maxEncoded = limits.maxBytes / 3 * 4 + 4 + limits.maxBytes / 38 + 2
        guard posted.utf8.count <= max(limits.maxBytes, maxEncoded) else {
            throw SAMLError(.tooLarge, "the posted SAMLResponse is \(posted.utf8.count) bytes; at most \(limits.maxBytes) bytes of XML are accepted")
        }
        let trimmed = posted.trimmingXMLWhitespace()
        if trimmed.hasPrefix("<") || trimmed.hasPrefix("\u{FEFF}<") { return Array(posted.utf8) }
        guard let xml = Base64.decode(trimmed.removingXMLWhitespace()) else {
            throw SAMLError(.malformed, "the SAMLResponse is neither XML nor base64; post the form field value as the IdP sent it")
        }
        return xml
    }
}
