import EvidenceCore
import EvidenceWebAuthn
import Foundation
import Testing

/// One relying party (`localhost`, one HTTPS origin), a credential store and a fixed clock.
struct PasskeyWorld {
    let clock = ManualWallClock(Date(timeIntervalSince1970: 1_780_000_000))
    let store = InMemoryPasskeyCredentialStore()
    let party = RelyingPartyIdentity(id: SoftAuthenticator.rpID, origins: [SoftAuthenticator.origin])
    let tenant = try! TenantID("acme")
    var owner: PasskeyOwner { PasskeyOwner(issuer: "https://idp.msp.example", subject: "tech", tenant: tenant) }

    func registrar(requireUV: Bool = true) -> RegistrationVerifier { RegistrationVerifier(party: party, clock: clock, requireUserVerification: requireUV) }
    var assertions: AssertionVerifier { AssertionVerifier(party: party, store: store, clock: clock) }

    /// Registers a fresh software authenticator for `owner` and returns it.
    func enrolled(alg: String = "es256", fmt: String = "none") async throws -> SoftAuthenticator {
        let a = SoftAuthenticator()
        let c = challenge()
        let cred = try registrar().verify(try a.register(challenge: c, alg: alg, fmt: fmt), challenge: c, owner: owner)
        try await store.register(cred)
        return a
    }

    func challenge() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }
}

/// The WebAuthn error code `body` throws, or nil when it does not throw one.
func refusal<T>(_ body: () async throws -> T) async -> WebAuthnError.Code? {
    do { _ = try await body(); return nil } catch let e as WebAuthnError { return e.code } catch { return nil }
}
