import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// What the browser returns from `navigator.credentials.create()`, base64url-decoded.
public struct RegistrationResponse: Sendable {
    public var credentialID: [UInt8]
    public var clientDataJSON: [UInt8]
    public var attestationObject: [UInt8]
    public init(credentialID: [UInt8], clientDataJSON: [UInt8], attestationObject: [UInt8]) {
        self.credentialID = credentialID; self.clientDataJSON = clientDataJSON; self.attestationObject = attestationObject
    }
}

/// Verifies a passkey registration (WebAuthn Level 3 §7.1) and yields the credential to store.
///
/// Guarantees: a returned credential came from a `webauthn.create` ceremony with the issued
/// challenge, on one of the party's origins, for the party's RP ID, with user presence (and
/// user verification when required), a key of an allowed algorithm, and an attestation
/// statement of format `none` (empty) or `packed` whose signature over
/// authenticatorData || SHA-256(clientDataJSON) verifies: with the credential key itself
/// (self attestation, same algorithm) or with the first x5c certificate (ES256 or RS256).
/// Refuses, with a `WebAuthnError` naming the check: anything else, including other
/// attestation formats, a credential id that differs from the one in the authenticator data,
/// and oversized or malformed CBOR.
/// Not checked: trust in an attestation certificate (reported in `AttestationTrust` for the
/// caller's policy) and the AAGUID extension inside it.
public struct RegistrationVerifier: Sendable {
    public let party: RelyingPartyIdentity
    public var requireUserVerification: Bool
    public var allowedAlgorithms: Set<COSEAlgorithm>
    /// Most certificates accepted in a packed `x5c` array.
    public static let maxCertificates = 4
    private let clock: any WallClock
    private let decoder: CBORDecoder

    public init(party: RelyingPartyIdentity, clock: any WallClock, requireUserVerification: Bool = true,
                allowedAlgorithms: Set<COSEAlgorithm> = Set(COSEAlgorithm.allCases), limits: CBORLimits = .webAuthn) {
        self.party = party; self.clock = clock; self.requireUserVerification = requireUserVerification
        self.allowedAlgorithms = allowedAlgorithms; decoder = CBORDecoder(limits: limits)
    }

    /// Checks `response` against the challenge issued for this ceremony and returns the
    /// credential, owned by `owner`, ready for `PasskeyCredentialStore.register`.
    public func verify(_ response: RegistrationResponse, challenge: [UInt8], owner: PasskeyOwner) throws -> PasskeyCredential {
        _ = try CollectedClientData.check(response.clientDataJSON, type: "webauthn.create", challenge: challenge, party: party)
        let object = try decoder.decode(response.attestationObject)
        guard let fmt = object[text: "fmt"]?.textValue, let stmt = object[text: "attStmt"], stmt.mapValue != nil,
              let rawAuth = object[text: "authData"]?.bytesValue else {
            throw WebAuthnError(.attestationRefused, "the attestation object needs fmt (text), attStmt (map) and authData (bytes)")
        }
        let auth = try AuthenticatorData(rawAuth, decoder: decoder)
        try Self.checkCommon(auth, party: party, requireUserVerification: requireUserVerification)
        guard let cred = auth.attestedCredential else {
            throw WebAuthnError(.malformedAuthenticatorData, "registration authenticator data lacks attested credential data (AT flag clear)")
        }
        guard cred.credentialID == response.credentialID else {
            throw WebAuthnError(.malformedAuthenticatorData, "the response's credential id differs from the one in the authenticator data")
        }
        guard allowedAlgorithms.contains(cred.publicKey.algorithm) else {
            throw WebAuthnError(.unsupportedKey, "credential algorithm \(cred.publicKey.algorithm) is not allowed by this relying party (allowed: \(allowedAlgorithms.map(\.description).sorted().joined(separator: ", ")))")
        }
        let signed = rawAuth + OpenSSLSHA256().hash(bytes: response.clientDataJSON).bytes
        let trust = try attestation(fmt, stmt, signed: signed, credentialKey: cred.publicKey)
        return PasskeyCredential(credentialID: cred.credentialID, publicKey: cred.publicKey.encoded, algorithm: cred.publicKey.algorithm,
                                 signCount: auth.signCount, owner: owner, aaguid: cred.aaguid, attestation: trust,
                                 userVerifiedAtRegistration: auth.flags.contains(.userVerified),
                                 backupEligible: auth.flags.contains(.backupEligible), registeredAt: clock.now())
    }

    private func attestation(_ fmt: String, _ stmt: CBORValue, signed: [UInt8], credentialKey: COSEPublicKey) throws -> AttestationTrust {
        switch fmt {
        case "none":
            guard stmt.mapValue?.isEmpty == true else {
                throw WebAuthnError(.attestationRefused, "a 'none' attestation must have an empty attStmt")
            }
            return .none
        case "packed":
            guard let algValue = stmt[text: "alg"]?.intValue, let sig = stmt[text: "sig"]?.bytesValue else {
                throw WebAuthnError(.attestationRefused, "a packed attestation needs alg (integer) and sig (bytes)")
            }
            guard let chain = stmt[text: "x5c"] else {
                guard algValue == credentialKey.algorithm.rawValue else {
                    throw WebAuthnError(.attestationRefused, "packed self attestation uses alg \(algValue), but the credential key is \(credentialKey.algorithm)")
                }
                guard credentialKey.isValidSignature(sig, for: signed) else {
                    throw WebAuthnError(.badSignature, "the packed self-attestation signature does not verify with the new credential key")
                }
                return .selfAttestation
            }
            guard let certs = chain.arrayValue, (1...Self.maxCertificates).contains(certs.count),
                  let leafDER = certs[0].bytesValue, certs.allSatisfy({ $0.bytesValue != nil }) else {
                throw WebAuthnError(.attestationRefused, "packed x5c must be 1 to \(Self.maxCertificates) DER certificates (byte strings)")
            }
            let leaf: X509SignatureKey
            do { leaf = try X509SignatureKey(certificateDER: leafDER) } catch {
                throw WebAuthnError(.attestationRefused, "the packed attestation certificate is refused: \(error)")
            }
            let alg: X509SignatureKey.Algorithm
            switch COSEAlgorithm(rawValue: algValue) {
            case .es256: alg = .ecdsaP256SHA256
            case .rs256: alg = .rsaPKCS1SHA256
            default: throw WebAuthnError(.attestationRefused, "packed attestation alg \(algValue) with x5c is not supported; ES256 (-7) or RS256 (-257)")
            }
            guard leaf.isValidSignature(sig, for: signed, algorithm: alg) else {
                throw WebAuthnError(.badSignature, "the packed attestation signature does not verify with certificate \(leaf.subject) (\(leaf.keyType), alg \(alg))")
            }
            return .certificate(fingerprintSHA256: leaf.fingerprintSHA256, subject: leaf.subject)
        default:
            throw WebAuthnError(.attestationRefused, "attestation format '\(fmt.prefix(40))' is not accepted; ask for 'none' or 'packed'")
        }
    }

    /// rpIdHash, UP and (if required) UV: shared by registration and assertion.
    static func checkCommon(_ auth: AuthenticatorData, party: RelyingPartyIdentity, requireUserVerification: Bool) throws {
        guard auth.rpIDHash == OpenSSLSHA256().hash(party.id).bytes else {
            throw WebAuthnError(.rpIDMismatch, "the authenticator signed for another RP ID than '\(party.id)' (rpIdHash differs)")
        }
        guard auth.flags.contains(.userPresent) else {
            throw WebAuthnError(.userNotPresent, "the user-present (UP) flag is not set: the authenticator was not touched")
        }
        if requireUserVerification && !auth.flags.contains(.userVerified) {
            throw WebAuthnError(.userNotVerified, "user verification (PIN or biometric, the UV flag) is required but was not performed")
        }
    }
}
