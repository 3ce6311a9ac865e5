import EvidenceCore
import EvidenceWebAuthn
import Testing

@Suite("Passkey assertions", .timeLimit(.minutes(1)))
struct AssertionTests {
    let w = PasskeyWorld()

    @Test("two ES256 assertions verify and advance the stored counter")
    func twoAssertions() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        for expected in [UInt32(1), 2] {
            let c = w.challenge()
            let v = try await w.assertions.verify(try a.assert(challenge: c), challenge: c, for: w.owner, requireUserVerification: true)
            #expect(v.signCount == expected)
            #expect(v.userVerified)
            #expect(v.verifiedAt == w.clock.now())
        }
        #expect(try await w.store.credentials(of: w.owner).first?.signCount == 2)
    }

    @Test("an EdDSA credential registered with packed self attestation signs valid assertions")
    func edDSA() async throws {
        let a = try await w.enrolled(alg: "eddsa", fmt: "packed"); defer { a.close() }
        let c = w.challenge()
        #expect(try await w.assertions.verify(try a.assert(challenge: c), challenge: c, for: w.owner, requireUserVerification: true).signCount == 1)
    }

    @Test("an assertion over another challenge is refused")
    func badChallenge() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let r = try a.assert(challenge: w.challenge())
        #expect(await refusal { try await w.assertions.verify(r, challenge: w.challenge(), for: w.owner, requireUserVerification: true) } == .challengeMismatch)
    }

    @Test("an assertion from a foreign origin is refused")
    func badOrigin() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c, origin: "https://localhost.evil.example")
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .originMismatch)
    }

    @Test("an assertion for another RP ID is refused")
    func wrongRPID() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c, rpID: "example.org")
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .rpIDMismatch)
    }

    @Test("a counter that does not advance is refused and the stored counter stays")
    func counterRegression() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        for _ in 0..<2 {
            let c = w.challenge()
            _ = try await w.assertions.verify(try a.assert(challenge: c), challenge: c, for: w.owner, requireUserVerification: true)
        }
        let c = w.challenge()
        let r = try a.assert(challenge: c, counter: 2)
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .counterRegression)
        #expect(try await w.store.credentials(of: w.owner).first?.signCount == 2)
    }

    @Test("a zero counter is accepted only while the stored counter is zero too")
    func zeroCounters() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        #expect(try await w.assertions.verify(try a.assert(challenge: c, counter: 0), challenge: c, for: w.owner, requireUserVerification: true).signCount == 0)
    }

    @Test("a signature with one flipped bit is refused")
    func flippedSignature() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        var r = try a.assert(challenge: c)
        r.signature[r.signature.count - 1] ^= 0x01
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .badSignature)
    }

    @Test("an assertion without user presence is refused")
    func noUserPresence() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c, up: false)
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: false) } == .userNotPresent)
    }

    @Test("an assertion without user verification is refused when it is required")
    func noUserVerification() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c, uv: false)
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .userNotVerified)
    }

    @Test("another person's credential is refused, even in the same tenant")
    func otherOwner() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c)
        let other = PasskeyOwner(issuer: w.owner.issuer, subject: "approver", tenant: w.tenant)
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: other, requireUserVerification: true) } == .unknownCredential)
    }

    @Test("the same person in another tenant cannot use the credential")
    func otherTenant() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        let r = try a.assert(challenge: c)
        let elsewhere = PasskeyOwner(issuer: w.owner.issuer, subject: w.owner.subject, tenant: try TenantID("globex"))
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: elsewhere, requireUserVerification: true) } == .unknownCredential)
    }

    @Test("authenticator data with trailing bytes is refused")
    func trailingAuthenticatorData() async throws {
        let a = try await w.enrolled(); defer { a.close() }
        let c = w.challenge()
        var r = try a.assert(challenge: c)
        r.authenticatorData.append(0x00)
        #expect(await refusal { try await w.assertions.verify(r, challenge: c, for: w.owner, requireUserVerification: true) } == .malformedAuthenticatorData)
    }
}
