import EvidenceCore
@testable import EvidenceSAML
import Foundation
import Testing

/// Responses without a valid signature over exactly the assertion read are refused,
/// including the classic XML signature-wrapping (XSW) variants.
@Suite("SAML signature refusals and wrapping", .timeLimit(.minutes(1)))
struct SignatureWrappingTests {
    private func refusal(_ xml: String, requirement: SAMLSignatureRequirement = .assertionOrResponse) async throws -> SAMLError.Code? {
        let sp = try SAMLIdP.serviceProvider(requirement: requirement)
        do {
            _ = try await sp.verify(SAMLPostedResponse(samlResponse: xml, requestID: SAMLIdP.requestID))
            return nil
        } catch {
            return error.code
        }
    }

    @Test func unsignedResponseAndAssertionAreRefused() async throws {
        #expect(try await refusal(try SAMLIdP.response(sign: "none")) == .unsigned)
    }

    @Test func responseSignedButAssertionUnsignedIsRefusedWhenAssertionSignatureIsRequired() async throws {
        #expect(try await refusal(try SAMLIdP.response(sign: "response"), requirement: .assertion) == .unsigned)
    }

    @Test func assertionSignedButResponseUnsignedIsRefusedWhenResponseSignatureIsRequired() async throws {
        #expect(try await refusal(try SAMLIdP.response(sign: "assertion"), requirement: .response) == .unsigned)
    }

    @Test func signatureByAKeyMissingFromTheMetadataIsRefused() async throws {
        #expect(try await refusal(try SAMLIdP.response(key: "other")) == .badSignature)
    }

    @Test func nameIDEditedAfterSigningIsRefused() async throws {
        let xml = XMLSurgery.replacing(try SAMLIdP.response(sign: "assertion"), ">alice@msp.example</ns1:NameID>", with: ">admin@msp.example</ns1:NameID>")
        #expect(try await refusal(xml) == .badSignature)
    }

    @Test func signatureOverAnotherElementIsRefused() async throws {
        // The Response's valid signature is moved into the Assertion: it verifies, but over the Response.
        var xml = try SAMLIdP.response(sign: "both")
        let responseSig = String(xml[XMLSurgery.responseSignature(in: xml)!])
        xml.replaceSubrange(XMLSurgery.assertionSignature(in: xml)!, with: responseSig)
        xml.removeSubrange(XMLSurgery.responseSignature(in: xml)!)
        #expect(try await refusal(xml) == .signatureWrapping)
    }

    @Test func evilAssertionBeforeTheSignedOneWithTheSameIDIsRefused() async throws {
        var xml = try SAMLIdP.response(sign: "assertion")
        let signedID = String(xml[XMLSurgery.assertion(in: xml)!]).firstMatch(of: /ID="([^"]*)"/)!.1
        let evil = XMLSurgery.evilAssertion(from: xml, id: String(signedID))
        xml.insert(contentsOf: evil, at: XMLSurgery.assertion(in: xml)!.lowerBound)
        #expect(try await refusal(xml) == .signatureWrapping)
    }

    @Test func signedAssertionWrappedInExtensionsWithAnEvilOneInItsPlaceIsRefused() async throws {
        var xml = try SAMLIdP.response(sign: "assertion")
        let range = XMLSurgery.assertion(in: xml)!
        let signed = String(xml[range])
        let evil = XMLSurgery.evilAssertion(from: xml)
        xml.replaceSubrange(range, with: evil)
        let status = xml.range(of: "<ns0:Status>")!
        xml.insert(contentsOf: "<ns0:Extensions>\(signed)</ns0:Extensions>", at: status.lowerBound)
        #expect(try await refusal(xml) == .signatureWrapping)
    }

    @Test func signedAssertionHiddenInASignatureObjectOfAnEvilAssertionIsRefused() async throws {
        var xml = try SAMLIdP.response(sign: "assertion")
        let range = XMLSurgery.assertion(in: xml)!
        let signed = String(xml[range])
        var evil = XMLSurgery.evilAssertion(from: xml)
        let signature = String(signed[XMLSurgery.assertionSignature(in: signed)!])
            .replacingOccurrences(of: "</ns2:Signature>", with: "<ns2:Object>\(signed)</ns2:Object></ns2:Signature>")
        evil = evil.replacingOccurrences(of: "</ns1:Issuer>", with: "</ns1:Issuer>\(signature)")
        xml.replaceSubrange(range, with: evil)
        #expect(try await refusal(xml) == .signatureWrapping)
    }

    @Test func secondUnsignedAssertionNextToTheSignedOneIsRefused() async throws {
        var xml = try SAMLIdP.response(sign: "assertion")
        xml.insert(contentsOf: XMLSurgery.evilAssertion(from: xml), at: XMLSurgery.assertion(in: xml)!.upperBound)
        #expect(try await refusal(xml) == .signatureWrapping)
    }

    @Test func signedResponseWithAnInjectedSecondAssertionIsRefused() async throws {
        // The Response signature no longer matches, and two assertions are refused anyway.
        var xml = try SAMLIdP.response(sign: "response")
        xml.insert(contentsOf: XMLSurgery.evilAssertion(from: xml), at: XMLSurgery.assertion(in: xml)!.lowerBound)
        let code = try await refusal(xml)
        #expect(code == .signatureWrapping || code == .badSignature)
    }

    @Test func commentInjectedIntoNameIDNeitherTruncatesNorChangesTheName() async throws {
        // Exclusive C14N drops comments, so the signature still verifies; the name must stay whole.
        let signed = try SAMLIdP.response(sign: "assertion", nameID: "user@evil.com.example.com")
        let xml = XMLSurgery.replacing(signed, ">user@evil.com.example.com</ns1:NameID>", with: ">user@evil.com<!---->.example.com</ns1:NameID>")
        let sp = try SAMLIdP.serviceProvider()
        let principal = try await sp.authenticate(SAMLPostedResponse(samlResponse: xml, requestID: SAMLIdP.requestID))
        #expect(principal.subject == "user@evil.com.example.com")
    }

    @Test func ecdsaRawSignatureBecomesDERWithSignPaddingOnlyWhereNeeded() throws {
        let r = [UInt8](repeating: 0, count: 31) + [0x7f]          // leading zeros stripped
        let s = [0x80] + [UInt8](repeating: 1, count: 31)          // high bit: 0x00 pad
        let der = try #require(EnvelopedSignature.derECDSASignature(raw: r + s))
        #expect(der == [0x30, 3 + 35, 0x02, 0x01, 0x7f, 0x02, 0x21, 0x00] + s)
        #expect(EnvelopedSignature.derECDSASignature(raw: [UInt8](repeating: 1, count: 70)) == nil)
    }
}
