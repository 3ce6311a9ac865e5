import Foundation

/// A customer tenant of the MSP. Every log, key, object prefix and decision is scoped to one.
///
/// Guarantees: the identifier is safe as a single path component and an S3 key segment:
/// 1–63 characters of `a-z 0-9 - _ .`, starting with a letter or digit. Anything else is
/// refused at construction, so a tenant can never name a path outside its own folder.
public struct TenantID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ raw: String) throws {
        let u = Array(raw.utf8)
        guard (1...63).contains(u.count) else {
            throw EvidenceError.malformed("tenant id '\(raw.prefix(80))' must be 1 to 63 characters long")
        }
        func ok(_ c: UInt8) -> Bool { (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) || c == 0x2d || c == 0x5f || c == 0x2e }
        guard u.allSatisfy(ok), u[0] != 0x2d, u[0] != 0x5f, u[0] != 0x2e else {
            throw EvidenceError.malformed("tenant id '\(raw)' may only hold a-z, 0-9, '-', '_' and '.', and must start with a letter or digit")
        }
        rawValue = raw
    }

    public init(from decoder: Decoder) throws { try self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
    public var description: String { rawValue }
    public static func < (a: TenantID, b: TenantID) -> Bool { a.rawValue < b.rawValue }
}

/// How strongly a principal proved who they are, ordered weakest to strongest.
public enum AssuranceLevel: Int, Sendable, Codable, Comparable, CaseIterable, CustomStringConvertible {
    /// A single knowledge factor (password).
    case password = 1
    /// Two or more factors, at least one not phishing-resistant (OTP, push).
    case multiFactor = 2
    /// A phishing-resistant authenticator: passkey / WebAuthn, smart card, hardware key.
    case phishingResistant = 3

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self { case .password: "password"; case .multiFactor: "mfa"; case .phishingResistant: "phishing-resistant" }
    }
}

/// A role a principal holds inside one tenant.
public enum TenantRole: String, Sendable, Codable, CaseIterable {
    case admin, approver, auditor, incidentManager
}

/// Who acts: the outcome of a login at the MSP's identity provider.
///
/// A principal belongs to exactly one tenant scope (the MSP's own staff use the MSP tenant)
/// and carries the evidence of how it authenticated, so every log record can state it.
public struct Principal: Hashable, Sendable, Codable {
    /// Stable subject identifier at the issuer (OIDC `sub`, SAML NameID).
    public var subject: String
    /// The identity provider that vouched (OIDC `iss`, SAML IdP entity id).
    public var issuer: String
    public var tenant: TenantID
    public var displayName: String?
    public var assurance: AssuranceLevel
    /// Authentication methods as reported (`pwd`, `otp`, `hwk`, `passkey`, ...).
    public var methods: [String]
    /// Authentication context class reference, when the IdP sent one.
    public var acr: String?
    public var authenticatedAt: Date?
    public var roles: Set<TenantRole>

    public init(subject: String, issuer: String, tenant: TenantID, displayName: String? = nil,
                assurance: AssuranceLevel, methods: [String] = [], acr: String? = nil,
                authenticatedAt: Date? = nil, roles: Set<TenantRole> = []) {
        self.subject = subject; self.issuer = issuer; self.tenant = tenant; self.displayName = displayName
        self.assurance = assurance; self.methods = methods; self.acr = acr
        self.authenticatedAt = authenticatedAt; self.roles = roles
    }
}
