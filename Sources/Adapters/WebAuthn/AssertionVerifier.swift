import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// What the browser returns from `navigator.credentials.get()`, base64url-decoded.
public struct AssertionResponse: Sendable {
    public var credentialID: [UInt8]
    public var authenticatorData: [UInt8]
    public var clientDataJSON: [UInt8]
    public var signature: [UInt8]
    public var userHandle: [UInt8]?
    public init(credentialID: [UInt8], authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8], userHandle: [UInt8]? = nil) {
        self.credentialID = credentialID; self.authenticatorData = authenticatorData; self.clientDataJSON = clientDataJSON
        self.signature = signature; self.userHandle = userHandle
    }
}

/// A passkey assertion that passed every check: who, with which credential, when.
public struct VerifiedAssertion: Hashable, Sendable {
    public let credentialID: [UInt8]
    public let owner: PasskeyOwner
    public let userVerified: Bool
    public let signCount: UInt32
    public let verifiedAt: Date
}

/// Verifies passkey assertions (WebAuthn Level 3 §7.2) against a credential store.
///
/// Guarantees: a returned `VerifiedAssertion` means the credential is registered to the
/// expected owner, clientDataJSON is a `webauthn.get` with the issued challenge from one of
/// the party's origins, rpIdHash is SHA-256 of the RP ID, UP is set (and UV when required),
/// the signature over authenticatorData || SHA-256(clientDataJSON) verifies with the stored
/// key, and the signature counter advanced (or both stored and received are 0); the store's
/// counter has been moved forward before the call returns.
/// Refuses with a `WebAuthnError` naming the failed check; the store is unchanged then.
public struct AssertionVerifier: Sendable {
    public let party: RelyingPartyIdentity
    public let store: any PasskeyCredentialStore
    private let clock: any WallClock
    private let decoder: CBORDecoder

    public init(party: RelyingPartyIdentity, store: any PasskeyCredentialStore, clock: any WallClock, limits: CBORLimits = .webAuthn) {
        self.party = party; self.store = store; self.clock = clock; decoder = CBORDecoder(limits: limits)
    }

    public func verify(_ response: AssertionResponse, challenge: [UInt8], for owner: PasskeyOwner,
                       requireUserVerification: Bool) async throws -> VerifiedAssertion {
        let idText = Base64URL.encode(response.credentialID).prefix(32)
        guard let stored = try await store.credential(id: response.credentialID), stored.owner == owner else {
            throw WebAuthnError(.unknownCredential, "credential \(idText) is not a passkey registered to \(owner); register it first")
        }
        _ = try CollectedClientData.check(response.clientDataJSON, type: "webauthn.get", challenge: challenge, party: party)
        let auth = try AuthenticatorData(response.authenticatorData, decoder: decoder)
        guard auth.attestedCredential == nil else {
            throw WebAuthnError(.malformedAuthenticatorData, "an assertion must not carry attested credential data (AT flag set)")
        }
        try RegistrationVerifier.checkCommon(auth, party: party, requireUserVerification: requireUserVerification)
        let key = try COSEPublicKey(encoded: stored.publicKey, decoder: decoder)
        let signed = response.authenticatorData + OpenSSLSHA256().hash(bytes: response.clientDataJSON).bytes
        guard key.isValidSignature(response.signature, for: signed) else {
            throw WebAuthnError(.badSignature, "the assertion signature does not verify with credential \(idText) (\(key.algorithm))")
        }
        guard auth.signCount > stored.signCount || (auth.signCount == 0 && stored.signCount == 0) else {
            throw WebAuthnError(.counterRegression, "signature counter \(auth.signCount) is not above the stored \(stored.signCount) for credential \(idText); the authenticator may be cloned: revoke it and investigate")
        }
        try await store.advanceSignCount(id: stored.credentialID, expected: stored.signCount, to: auth.signCount)
        return VerifiedAssertion(credentialID: stored.credentialID, owner: owner, userVerified: auth.flags.contains(.userVerified),
                                 signCount: auth.signCount, verifiedAt: clock.now())
    }
}
