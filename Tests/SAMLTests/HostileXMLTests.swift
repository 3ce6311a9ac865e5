import EvidenceCore
import EvidenceSAML
import Foundation
import Testing

/// Hostile XML is refused before anything in it is interpreted.
@Suite("SAML hostile XML", .timeLimit(.minutes(1)))
struct HostileXMLTests {
    private func code(_ xml: String, limits: SAMLParseLimits = SAMLParseLimits()) async throws -> SAMLError.Code? {
        let sp = try SAMLIdP.serviceProvider(limits: limits)
        do { _ = try await sp.verify(SAMLPostedResponse(samlResponse: xml, requestID: SAMLIdP.requestID)); return nil } catch { return error.code }
    }

    @Test func externalEntityIsRefused() async throws {
        let xml = """
        <?xml version="1.0"?>
        <!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&xxe;</samlp:Response>
        """
        #expect(try await code(xml) == .doctypeForbidden)
    }

    @Test func billionLaughsIsRefused() async throws {
        var entities = #"<!ENTITY lol0 "lol">"#
        for i in 1...9 { entities += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i - 1);", count: 10) + "\">" }
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [\(entities)]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&lol9;</samlp:Response>"
        #expect(try await code(xml) == .doctypeForbidden)
    }

    @Test func doctypeInsideBase64IsRefusedToo() async throws {
        let xml = #"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd"><r/>"#
        #expect(try await code(Base64.encode(Array(xml.utf8))) == .doctypeForbidden)
    }

    @Test func utf16InputThatCouldHideADoctypeIsRefused() async throws {
        var bytes: [UInt8] = [0xff, 0xfe]
        for u in #"<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>"#.utf16 { bytes += [UInt8(u & 0xff), UInt8(u >> 8)] }
        #expect(try await code(Base64.encode(bytes)) == .malformed)
    }

    @Test func oversizeDocumentIsRefusedBeforeParsing() async throws {
        let signed = try SAMLIdP.response()
        let padded = XMLSurgery.replacing(signed, "<ns0:Status>", with: "<!--" + String(repeating: "x", count: 300_000) + "--><ns0:Status>")
        #expect(try await code(padded) == .tooLarge)
    }

    @Test func tooManyNodesAreRefused() async throws {
        let signed = try SAMLIdP.response()
        #expect(try await code(signed, limits: SAMLParseLimits(maxNodes: 50)) == .tooLarge)
    }

    @Test func notWellFormedXMLIsRefusedWithTheParserReason() async throws {
        let sp = try SAMLIdP.serviceProvider()
        await #expect { _ = try await sp.verify(SAMLPostedResponse(samlResponse: "<samlp:Response><unclosed>", requestID: nil)) } throws: {
            guard let e = $0 as? SAMLError else { return false }
            return e.code == .malformed && e.message.contains("not well-formed")
        }
    }

    @Test func neitherXMLNorBase64IsRefused() async throws {
        #expect(try await code("this is not a SAML response!") == .malformed)
    }
}
