import EvidenceCore
import EvidenceSAML
import Foundation
import Testing

@Suite("SAML metadata", .timeLimit(.minutes(1)))
struct SPMetadataTests {
    @Test func spMetadataNamesTheEntityAndThePOSTConsumerServiceEscaped() {
        let xml = SAMLServiceProviderMetadata(entityID: "https://sp.example.test/saml?a=1&b=2",
                                              assertionConsumerServiceURL: "https://sp.example.test/saml/acs").xml
        #expect(xml.contains(#"entityID="https://sp.example.test/saml?a=1&amp;b=2""#))
        #expect(xml.contains(#"Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.test/saml/acs""#))
        #expect(xml.contains(#"WantAssertionsSigned="true""#))
    }

    @Test func idpMetadataKeepsEverySigningCertificateForRollover() throws {
        let idp = try SAMLIdentityProviderMetadata(xml: Array(try SAMLIdP.metadata(certs: "idp,idp2").utf8))
        #expect(idp.entityID == SAMLIdP.entityID)
        #expect(idp.signingKeys.count == 2)
        #expect(Set(idp.signingKeys.map(\.fingerprintSHA256)).count == 2)
    }

    @Test func spMetadataIsRefusedAsIdPMetadata() throws {
        let sp = SAMLServiceProviderMetadata(entityID: "https://sp.example.test", assertionConsumerServiceURL: "https://sp.example.test/acs").xml
        #expect { try SAMLIdentityProviderMetadata(xml: Array(sp.utf8)) } throws: { ($0 as? SAMLError)?.code == .configuration }
    }
}
