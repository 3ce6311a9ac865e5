import EvidenceCore
import EvidenceSAML
import Foundation
import Testing

/// Web SSO checks on a genuinely signed response: time windows, audience, recipient,
/// request correlation, issuer and replay.
@Suite("SAML conditions, recipients and replay", .timeLimit(.minutes(1)))
struct ResponseConditionTests {
    private func code(_ xml: String, requestID: String? = SAMLIdP.requestID, clock: ManualWallClock = ManualWallClock(Date()),
                      unsolicited: Bool = false) async throws -> SAMLError.Code? {
        let sp = try SAMLIdP.serviceProvider(clock: clock, unsolicited: unsolicited)
        do { _ = try await sp.verify(SAMLPostedResponse(samlResponse: xml, requestID: requestID)); return nil } catch { return error.code }
    }

    @Test func expiredAssertionIsRefused() async throws {
        #expect(try await code(try SAMLIdP.response(), clock: ManualWallClock(Date().addingTimeInterval(3600))) == .expired)
    }

    @Test func assertionFromTheFutureIsRefused() async throws {
        #expect(try await code(try SAMLIdP.response(), clock: ManualWallClock(Date().addingTimeInterval(-3600))) == .notYetValid)
    }

    @Test func clockSkewWithinTheBoundIsTolerated() async throws {
        // pysaml2 sets NotBefore to the issue instant: 60 s behind is inside the 120 s skew.
        #expect(try await code(try SAMLIdP.response(), clock: ManualWallClock(Date().addingTimeInterval(-60))) == nil)
    }

    @Test func assertionForAnotherServiceProviderIsRefused() async throws {
        #expect(try await code(try SAMLIdP.response(spEntityID: "https://other-sp.example.test/metadata")) == .wrongAudience)
    }

    @Test func assertionForAnotherConsumerServiceURLIsRefused() async throws {
        #expect(try await code(try SAMLIdP.response(acsURL: "https://evil.example.test/acs")) == .wrongRecipient)
    }

    @Test func bearerRecipientOfAnotherACSIsRefusedEvenWithTheRightDestination() async throws {
        // Only the assertion is signed, so the attacker may fix the (unsigned) Response Destination.
        let xml = XMLSurgery.replacing(try SAMLIdP.response(sign: "assertion", acsURL: "https://evil.example.test/acs"),
                                       #"Destination="https://evil.example.test/acs""#, with: #"Destination="\#(SAMLIdP.acsURL)""#)
        #expect(try await code(xml) == .wrongRecipient)
    }

    @Test func responseToAnotherAuthnRequestIsRefused() async throws {
        #expect(try await code(try SAMLIdP.response(), requestID: "_req-other") == .wrongRequest)
    }

    @Test func unsolicitedResponseIsRefusedUnlessConfigured() async throws {
        let xml = try SAMLIdP.response(inResponseTo: nil)
        #expect(try await code(xml, requestID: nil) == .wrongRequest)
        #expect(try await code(xml, requestID: nil, unsolicited: true) == nil)
    }

    @Test func responseFromAnotherIssuerIsRefused() async throws {
        let sp = try SAMLIdP.serviceProvider()
        let otherIdP = try SAMLIdentityProviderMetadata(entityID: "https://other-idp.example.test",
                                                        signingCertificatesDER: sp.configuration.identityProvider.signingKeys.map { _ in
                                                            try! pemToDER(String(contentsOfFile: try SAMLIdP.certificatePath("idp"), encoding: .utf8)) })
        var configuration = sp.configuration
        configuration.identityProvider = otherIdP
        let other = SAMLServiceProvider(configuration: configuration, clock: ManualWallClock(Date()))
        await #expect { _ = try await other.verify(SAMLPostedResponse(samlResponse: try SAMLIdP.response(), requestID: SAMLIdP.requestID)) } throws: {
            ($0 as? SAMLError)?.code == .wrongIssuer
        }
    }

    @Test func theSameAssertionPostedTwiceIsRefusedAsReplay() async throws {
        let sp = try SAMLIdP.serviceProvider()
        let posted = SAMLPostedResponse(samlResponse: try SAMLIdP.response(), requestID: SAMLIdP.requestID)
        _ = try await sp.verify(posted)
        await #expect { _ = try await sp.verify(posted) } throws: { ($0 as? SAMLError)?.code == .replayed }
    }

    @Test func replayEntryLastsUntilTheAssertionExpiresThenIsForgotten() async throws {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let cache = SAMLReplayCache(clock: clock)
        let until = clock.now().addingTimeInterval(300)
        try await cache.admit(assertionID: "_a1", issuer: "idp", until: until)
        clock.advance(by: 299)
        await #expect { try await cache.admit(assertionID: "_a1", issuer: "idp", until: until) } throws: { ($0 as? SAMLError)?.code == .replayed }
        clock.advance(by: 61)
        try await cache.admit(assertionID: "_a1", issuer: "idp", until: clock.now().addingTimeInterval(300))
    }

    @Test func fullReplayCacheFailsClosed() async throws {
        let clock = ManualWallClock()
        let cache = SAMLReplayCache(clock: clock, capacity: 2)
        try await cache.admit(assertionID: "_a1", issuer: "idp", until: clock.now().addingTimeInterval(60))
        try await cache.admit(assertionID: "_a2", issuer: "idp", until: clock.now().addingTimeInterval(60))
        await #expect { try await cache.admit(assertionID: "_a3", issuer: "idp", until: clock.now().addingTimeInterval(60)) } throws: {
            ($0 as? SAMLError)?.code == .replayed
        }
    }
}

func pemToDER(_ pem: String) -> [UInt8] {
    Base64.decode(pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()) ?? []
}
