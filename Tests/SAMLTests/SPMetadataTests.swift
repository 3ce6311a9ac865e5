import EvidenceCore
@testable import EvidenceSAML
import Testing

@Suite("SAML SP metadata", .timeLimit(.minutes(1)))
struct SPMetadataTests {
    @Test func spMetadataNamesTheEntityAndThePOSTConsumerServiceEscaped() {
        let xml = SAMLServiceProviderMetadata(entityID: "https://sp.example.test/saml?a=1&b=2",
                                              assertionConsumerServiceURL: "https://sp.example.test/saml/acs").xml
        #expect(xml.contains(#"entityID="https://sp.example.test/saml?a=1&amp;b=2""#))
        #expect(xml.contains(#"Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.test/saml/acs""#))
        #expect(xml.contains(#"WantAssertionsSigned="true""#))
    }
}
