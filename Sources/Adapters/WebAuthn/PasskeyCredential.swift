import EvidenceCore
import Foundation

/// The person a passkey is registered to: the identity provider's subject inside one tenant.
/// Assertions are only ever checked against the credentials of the principal who presents them.
public struct PasskeyOwner: Hashable, Sendable, CustomStringConvertible {
    public var issuer: String
    public var subject: String
    public var tenant: TenantID

    public init(issuer: String, subject: String, tenant: TenantID) { self.issuer = issuer; self.subject = subject; self.tenant = tenant }
    public init(_ p: Principal) { self.init(issuer: p.issuer, subject: p.subject, tenant: p.tenant) }
    public var description: String { "\(issuer)#\(subject) (tenant \(tenant))" }
}

/// How the authenticator vouched for its key at registration.
public enum AttestationTrust: Hashable, Sendable {
    /// `none`: no statement; the key is trusted because the logged-in user registered it.
    case none
    /// `packed` self attestation: signed with the credential key itself (proves possession only).
    case selfAttestation
    /// `packed` with an x5c chain: signed by the attestation certificate (SHA-256 fingerprint,
    /// subject). Whether that certificate is trusted (FIDO MDS, a vendor root) is for the caller.
    case certificate(fingerprintSHA256: String, subject: String)
}

/// A registered passkey as a credential store keeps it.
public struct PasskeyCredential: Hashable, Sendable {
    public var credentialID: [UInt8]
    /// The COSE_Key bytes from registration; parsed again for each assertion.
    public var publicKey: [UInt8]
    public var algorithm: COSEAlgorithm
    /// Highest signature counter seen (0 for authenticators that do not count).
    public var signCount: UInt32
    public var owner: PasskeyOwner
    public var aaguid: [UInt8]
    public var attestation: AttestationTrust
    public var userVerifiedAtRegistration: Bool
    /// The BE flag: a synced (multi-device) passkey.
    public var backupEligible: Bool
    public var registeredAt: Date

    public init(credentialID: [UInt8], publicKey: [UInt8], algorithm: COSEAlgorithm, signCount: UInt32, owner: PasskeyOwner,
                aaguid: [UInt8], attestation: AttestationTrust, userVerifiedAtRegistration: Bool, backupEligible: Bool, registeredAt: Date) {
        self.credentialID = credentialID; self.publicKey = publicKey; self.algorithm = algorithm; self.signCount = signCount
        self.owner = owner; self.aaguid = aaguid; self.attestation = attestation
        self.userVerifiedAtRegistration = userVerifiedAtRegistration; self.backupEligible = backupEligible; self.registeredAt = registeredAt
    }
}

/// Where registered passkeys live.
///
/// Invariants every implementation keeps: a credential id is registered at most once
/// (`register` throws `.duplicateCredential`); `advanceSignCount` is a compare-and-set that
/// only moves the stored counter from `expected` to a larger value (or keeps 0 -> 0), and
/// throws `.counterRegression` otherwise, so two concurrent uses of one assertion cannot both
/// pass; `credential(id:)` never returns a credential that was not registered.
public protocol PasskeyCredentialStore: Sendable {
    func register(_ credential: PasskeyCredential) async throws
    func credential(id: [UInt8]) async throws -> PasskeyCredential?
    func credentials(of owner: PasskeyOwner) async throws -> [PasskeyCredential]
    func advanceSignCount(id: [UInt8], expected: UInt32, to newValue: UInt32) async throws
}

/// The in-memory credential store: for tests and single-process deployments.
public actor InMemoryPasskeyCredentialStore: PasskeyCredentialStore {
    private var byID: [[UInt8]: PasskeyCredential] = [:]

    public init() {}

    public func register(_ credential: PasskeyCredential) async throws {
        guard byID[credential.credentialID] == nil else {
            throw WebAuthnError(.duplicateCredential, "credential \(Base64URL.encode(credential.credentialID).prefix(32)) is already registered; an authenticator must not be registered twice")
        }
        byID[credential.credentialID] = credential
    }

    public func credential(id: [UInt8]) async throws -> PasskeyCredential? { byID[id] }

    public func credentials(of owner: PasskeyOwner) async throws -> [PasskeyCredential] {
        byID.values.filter { $0.owner == owner }.sorted { $0.registeredAt < $1.registeredAt }
    }

    public func advanceSignCount(id: [UInt8], expected: UInt32, to newValue: UInt32) async throws {
        guard var c = byID[id] else { throw WebAuthnError(.unknownCredential, "credential \(Base64URL.encode(id).prefix(32)) is not registered") }
        guard c.signCount == expected, newValue > expected || (newValue == 0 && expected == 0) else {
            throw WebAuthnError(.counterRegression, "signature counter \(newValue) does not advance the stored \(c.signCount); the authenticator may be cloned: revoke the credential and investigate")
        }
        c.signCount = newValue
        byID[id] = c
    }
}
