import EvidenceWebAuthn
import Testing

@Suite("Passkey registration", .timeLimit(.minutes(1)))
struct RegistrationTests {
    let w = PasskeyWorld()

    func register(alg: String = "es256", fmt: String = "none") throws -> PasskeyCredential {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        return try w.registrar().verify(try a.register(challenge: c, alg: alg, fmt: fmt), challenge: c, owner: w.owner)
    }

    @Test("ES256 with 'none' attestation registers the credential key")
    func es256None() throws {
        let cred = try register()
        #expect(cred.algorithm == .es256)
        #expect(cred.attestation == .none)
        #expect(cred.userVerifiedAtRegistration)
        #expect(cred.owner == w.owner)
    }

    @Test("EdDSA with packed self attestation registers the credential key")
    func edDSAPackedSelf() throws {
        let cred = try register(alg: "eddsa", fmt: "packed")
        #expect(cred.algorithm == .edDSA)
        #expect(cred.attestation == .selfAttestation)
    }

    @Test("packed attestation with an x5c certificate is verified with that certificate")
    func packedCertificate() throws {
        let cred = try register(fmt: "packed-x5c")
        guard case .certificate(let fp, let subject) = cred.attestation else { Issue.record("expected certificate attestation"); return }
        #expect(fp.count == 64)
        #expect(subject.contains("Authenticator Attestation"))
    }

    @Test("RS256 credential keys register")
    func rs256() throws { #expect(try register(alg: "rs256", fmt: "packed").algorithm == .rs256) }

    @Test("a response to another challenge is refused")
    func badChallenge() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let r = try a.register(challenge: w.challenge())
        #expect(await refusal { try w.registrar().verify(r, challenge: w.challenge(), owner: w.owner) } == .challengeMismatch)
    }

    @Test("a response from a foreign origin is refused")
    func badOrigin() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        let r = try a.register(challenge: c, origin: "https://evil.example")
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .originMismatch)
    }

    @Test("authenticator data for another RP ID is refused")
    func wrongRPID() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        let r = try a.register(challenge: c, rpID: "evil.example")
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .rpIDMismatch)
    }

    @Test("registration without user presence is refused")
    func noUserPresence() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        let r = try a.register(challenge: c, up: false)
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .userNotPresent)
    }

    @Test("registration without user verification is refused when it is required")
    func noUserVerification() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        let r = try a.register(challenge: c, uv: false)
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .userNotVerified)
        #expect(try w.registrar(requireUV: false).verify(r, challenge: c, owner: w.owner).userVerifiedAtRegistration == false)
    }

    @Test("an assertion-type client data is refused at registration")
    func wrongType() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        let r = try a.register(challenge: c, type: "webauthn.get")
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .typeMismatch)
    }

    @Test("a packed self-attestation signature with a flipped bit is refused")
    func tamperedAttestation() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        var r = try a.register(challenge: c, fmt: "packed")
        // "sig" (text) then a one-byte-length byte string: flip the last bit of the DER signature.
        let o = r.attestationObject
        let marker: [UInt8] = [0x63, 0x73, 0x69, 0x67, 0x58]
        let found: Int? = (0..<(o.count - 5)).first { (i: Int) -> Bool in Array(o[i..<(i + 5)]) == marker }
        let at = try #require(found)
        r.attestationObject[at + 5 + Int(o[at + 5])] ^= 0x01
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .badSignature)
    }

    @Test("a truncated attestation object is refused as malformed CBOR")
    func truncatedAttestationObject() async throws {
        let a = SoftAuthenticator(); defer { a.close() }
        let c = w.challenge()
        var r = try a.register(challenge: c)
        r.attestationObject.removeLast(10)
        #expect(await refusal { try w.registrar().verify(r, challenge: c, owner: w.owner) } == .malformedCBOR)
    }

    @Test("registering the same credential twice is refused by the store")
    func duplicate() async throws {
        let cred = try register()
        try await w.store.register(cred)
        #expect(await refusal { try await w.store.register(cred) } == .duplicateCredential)
    }
}
