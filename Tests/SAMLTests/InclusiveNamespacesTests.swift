import EvidenceCore
@testable import EvidenceSAML
import Foundation
import Testing

/// Exclusive C14N with an `InclusiveNamespaces PrefixList`: the fixture is signed by xmlsec1
/// from a template whose transform lists `xs`, a prefix declared on the Response and used only
/// inside `xsi:type` values, so the digest matches only if the list is honoured.
@Suite("SAML exclusive C14N InclusiveNamespaces", .timeLimit(.minutes(1)))
struct InclusiveNamespacesTests {
    @Test func assertionSignedWithAPrefixListVerifies() async throws {
        let xml = try SAMLIdP.response(sign: "none", inclusivePrefixes: "xs")
        let sp = try SAMLIdP.serviceProvider(requirement: .assertion)
        let assertion = try await sp.verify(SAMLPostedResponse(samlResponse: xml, requestID: SAMLIdP.requestID))
        #expect(assertion.assertionSigned && !assertion.responseSigned)
    }

    @Test func prefixListDecidesWhetherAnAncestorNamespaceIsRendered() throws {
        let xml = try SAMLIdP.response(sign: "none", inclusivePrefixes: "xs")
        let document = try SafeXMLDocument(bytes: Array(xml.utf8), limits: SAMLParseLimits(), what: "test")
        let assertion = try #require(document.root.child(SAMLNamespace.assertion, "Assertion"))
        let with = try EnvelopedSignature.canonicalize(assertion, excluding: nil, prefixes: ["xs"], in: document, what: "test")
        let without = try EnvelopedSignature.canonicalize(assertion, excluding: nil, prefixes: [], in: document, what: "test")
        #expect(String(decoding: with, as: UTF8.self).hasPrefix(#"<ns1:Assertion xmlns:ns1="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="#))
        #expect(!String(decoding: without, as: UTF8.self).contains("xmlns:xs="))
    }
}
