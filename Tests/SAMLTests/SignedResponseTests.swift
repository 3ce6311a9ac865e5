import EvidenceCore
import EvidenceSAML
import Foundation
import Testing

/// Responses built by pysaml2 and signed by xmlsec1 are accepted, and yield the right principal.
@Suite("SAML responses signed by pysaml2 + xmlsec1", .timeLimit(.minutes(1)))
struct SignedResponseTests {
    private func authenticate(_ xml: String, _ sp: SAMLServiceProvider? = nil) async throws -> Principal {
        try await (sp ?? SAMLIdP.serviceProvider()).authenticate(SAMLPostedResponse(samlResponse: xml, requestID: SAMLIdP.requestID))
    }

    @Test func responseAndAssertionSignedWithRSASHA256YieldThePrincipal() async throws {
        let principal = try await authenticate(try SAMLIdP.response())
        #expect(principal.subject == "alice@msp.example")
        #expect(principal.issuer == SAMLIdP.entityID)
        #expect(principal.tenant.rawValue == "acme")
        #expect(principal.assurance == .password)
        #expect(principal.acr == "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        #expect(principal.displayName == "Alice")
    }

    @Test func base64FormAsPostedToTheACSIsAccepted() async throws {
        let principal = try await authenticate(try SAMLIdP.response(base64: true))
        #expect(principal.subject == "alice@msp.example")
    }

    @Test func onlyTheAssertionSignedIsEnoughWhenAssertionSignatureIsRequired() async throws {
        let sp = try SAMLIdP.serviceProvider(requirement: .assertion)
        let assertion = try await sp.verify(SAMLPostedResponse(samlResponse: try SAMLIdP.response(sign: "assertion"), requestID: SAMLIdP.requestID))
        #expect(assertion.assertionSigned && !assertion.responseSigned)
    }

    @Test func onlyTheResponseSignedCoversItsAssertionByDefault() async throws {
        let sp = try SAMLIdP.serviceProvider()
        let assertion = try await sp.verify(SAMLPostedResponse(samlResponse: try SAMLIdP.response(sign: "response"), requestID: SAMLIdP.requestID))
        #expect(assertion.responseSigned && !assertion.assertionSigned)
    }

    @Test func ecdsaSHA256SignaturesVerify() async throws {
        let sp = try SAMLIdP.serviceProvider(certs: "idp-ec")
        let assertion = try await sp.verify(SAMLPostedResponse(samlResponse: try SAMLIdP.response(key: "idp-ec", alg: "ecdsa-sha256"), requestID: SAMLIdP.requestID))
        #expect(assertion.responseSigned && assertion.assertionSigned)
    }

    @Test func responseSignedWithTheRolloverCertificateOfTheMetadataIsAccepted() async throws {
        let sp = try SAMLIdP.serviceProvider(certs: "idp,idp2")
        let assertion = try await sp.verify(SAMLPostedResponse(samlResponse: try SAMLIdP.response(key: "idp2"), requestID: SAMLIdP.requestID))
        #expect(assertion.signingCertificates.allSatisfy { $0 == sp.configuration.identityProvider.signingKeys[1].fingerprintSHA256 })
    }

    @Test func mfaClassMapsToMultiFactorAssurance() async throws {
        let principal = try await authenticate(try SAMLIdP.response(classRef: "https://refeds.org/profile/mfa"))
        #expect(principal.assurance == .multiFactor)
    }

    @Test func configuredMappingDecidesTheAssuranceOfAClass() async throws {
        let mapping = SAMLAssuranceMapping(levels: ["urn:example:ac:security-key": .phishingResistant])
        let sp = try SAMLIdP.serviceProvider(assurance: mapping)
        let principal = try await authenticate(try SAMLIdP.response(classRef: "urn:example:ac:security-key"), sp)
        #expect(principal.assurance == .phishingResistant)
    }

    @Test func unmappedAuthnContextClassIsRefused() async throws {
        await #expect { try await authenticate(try SAMLIdP.response(classRef: "urn:example:ac:unknown")) } throws: {
            ($0 as? SAMLError)?.code == .insufficientAssurance
        }
    }

    @Test func fixturesAreGenuinelySignedAccordingToXmlsec1() throws {
        let file = NSTemporaryDirectory() + "saml-xmlsec-\(UInt64.random(in: 0...UInt64.max)).xml"
        try SAMLIdP.response().write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let base = ["xmlsec1", "--verify", "--enabled-reference-uris", "empty,same-doc", "--enabled-key-data", "raw-x509-cert",
                    "--pubkey-cert-pem", try SAMLIdP.certificatePath("idp"),
                    "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                    "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
        let response = SAMLIdP.run(base + ["--node-xpath", "/*/*[local-name()='Signature']", file])
        let assertion = SAMLIdP.run(base + ["--node-xpath", "//*[local-name()='Assertion']/*[local-name()='Signature']", file])
        #expect(response.status == 0, "\(response.output)")
        #expect(assertion.status == 0, "\(assertion.output)")
    }
}
