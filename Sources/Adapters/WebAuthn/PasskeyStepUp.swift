import EvidenceAccess
import EvidenceCore
import EvidenceOpenSSL

extension VerifiedAssertion {
    /// The broker's step-up proof for this assertion (method `webauthn`).
    public var stepUpProof: StepUpProof {
        StepUpProof(method: "webauthn", credentialID: Base64URL.encode(credentialID), subject: owner.subject, issuer: owner.issuer,
                    verifiedAt: verifiedAt, userVerified: userVerified, signCount: signCount)
    }
}

/// The challenge for a step-up before activating one grant: SHA-256 over a fixed label, the
/// tenant, the grant id and fresh random bytes, so an assertion made for one activation
/// names that grant and cannot be presented for another.
public enum StepUpChallenge {
    /// - Parameter random: at least 16 bytes from a cryptographic source (injected).
    public static func forActivation(of grantID: String, tenant: TenantID, random: [UInt8]) throws -> [UInt8] {
        guard random.count >= 16 else {
            throw WebAuthnError(.challengeMismatch, "a step-up challenge needs at least 16 random bytes, not \(random.count)")
        }
        let label = Array("nis2-evidence step-up v1\n\(tenant.rawValue)\n\(grantID)\n".utf8)
        return OpenSSLSHA256().hash(bytes: label + random).bytes
    }
}

extension AccessBroker {
    /// Activates a grant after a passkey step-up: verifies the assertion (user verification
    /// when the tenant's policy asks for it) for the activating principal, then hands the
    /// resulting `StepUpProof` to `activate`.
    ///
    /// A refused assertion is an `access.denied` record (operation `grant.activate`) in the
    /// tenant's log, naming the failed WebAuthn check, and the call throws the broker's error.
    public func activate(_ id: String, tenant: TenantID, by principal: Principal, passkey: AssertionResponse,
                         challenge: [UInt8], verifier: AssertionVerifier) async throws -> AccessGrant {
        let verified: VerifiedAssertion
        do {
            verified = try await verifier.verify(passkey, challenge: challenge, for: PasskeyOwner(principal),
                                                 requireUserVerification: policy(for: tenant).stepUpUserVerification)
        } catch let e as WebAuthnError {
            throw try await denialRecorder.deny(.activateGrant, tenant: tenant, by: principal, grantID: id,
                                                reason: "passkey step-up refused (\(e.code)): \(e.message)")
        }
        return try await activate(id, tenant: tenant, by: principal, stepUp: verified.stepUpProof)
    }
}
