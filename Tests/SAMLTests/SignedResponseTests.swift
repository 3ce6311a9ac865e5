import EvidenceCore
import EvidenceSAML
import Foundation
import Testing

/// Responses built by pysaml2 and signed by xmlsec1 are accepted, and yield the right principal.
@Suite("SAML responses signed by pysaml2 + xmlsec1", .timeLimit(.minutes(1)))
struct SignedResponseTests {
    @Test func responseAndAssertionSignedWithRSASHA256YieldThePrincipal() async throws {
        let sp = try SAMLIdP.serviceProvider()
        let principal = try await sp.authenticate(SAMLPostedResponse(samlResponse: try SAMLIdP.response(), requestID: SAMLIdP.requestID))
        #expect(principal.subject == "alice@msp.example")
        #expect(principal.issuer == SAMLIdP.entityID)
        #expect(principal.tenant.rawValue == "acme")
        #expect(principal.assurance == .password)
        #expect(principal.acr == "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        #expect(principal.displayName == "Alice")
    }
}
