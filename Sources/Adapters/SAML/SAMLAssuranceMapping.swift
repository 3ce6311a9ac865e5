import EvidenceCore

/// How an `AuthnContextClassRef` becomes an `AssuranceLevel` (and the methods logged with it).
///
/// Guarantees: a class listed in `levels` gets exactly that level; an unlisted or absent
/// class gets `unlisted`, and when that is nil the login is refused, so an IdP can never
/// obtain more assurance than the operator configured for what it reported.
public struct SAMLAssuranceMapping: Hashable, Sendable {
    public var levels: [String: AssuranceLevel]
    /// Level for a class that is not in `levels`; nil refuses it.
    public var unlisted: AssuranceLevel?

    public init(levels: [String: AssuranceLevel], unlisted: AssuranceLevel? = nil) {
        self.levels = levels
        self.unlisted = unlisted
    }

    /// SAML 2.0 authentication context classes, REFEDS MFA and common vendor values.
    public static let standard = SAMLAssuranceMapping(levels: [
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Password": .password,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport": .password,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified": .password,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract": .multiFactor,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered": .multiFactor,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken": .multiFactor,
        "https://refeds.org/profile/mfa": .multiFactor,
        "http://schemas.microsoft.com/claims/multipleauthn": .multiFactor,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI": .phishingResistant,
        "urn:oasis:names:tc:SAML:2.0:ac:classes:X509": .phishingResistant,
        "urn:rsa:names:tc:SAML:2.0:ac:classes:FIDO": .phishingResistant,
    ])

    func level(for classRef: String?) throws(SAMLError) -> AssuranceLevel {
        if let classRef, let level = levels[classRef] { return level }
        if let unlisted { return unlisted }
        throw SAMLError(.insufficientAssurance, classRef.map { "the IdP reported AuthnContextClassRef '\($0)', which maps to no assurance level; add it to SAMLAssuranceMapping.levels" }
            ?? "the assertion has no AuthnContextClassRef; configure SAMLAssuranceMapping.unlisted to accept it")
    }

    /// The method names logged with a principal at `level`.
    static func methods(for level: AssuranceLevel) -> [String] {
        switch level {
        case .password: ["pwd"]
        case .multiFactor: ["pwd", "mfa"]
        case .phishingResistant: ["hwk"]
        }
    }
}
