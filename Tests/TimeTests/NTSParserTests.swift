import EvidenceNTS
import Testing

@Suite("NTS parsers and Marzullo, on crafted bytes", .timeLimit(.minutes(1)))
struct NTSParserTests {
    @Test func keRecordClaimingMoreThanTheMessageLimitIsRefused() {
        let oversize: [UInt8] = [0x80, 0x05, 0xff, 0xff] + [UInt8](repeating: 0, count: 64)
        #expect { try NTSKERecordParser.parseMessage(oversize) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func keResponseOverTheByteLimitIsRefused() {
        let big = [UInt8](repeating: 0, count: NTSKELimits.default.maxMessageBytes + 1)
        #expect { try NTSKERecordParser.parseMessage(big) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func tooManyKERecordsAreRefused() {
        let one = NTSKERecord(critical: false, type: .init(0x4000)).serialized
        let many = Array((0...NTSKELimits.default.maxRecords).map { _ in one }.joined())
        #expect { try NTSKERecordParser.parseMessage(many) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func oversizeCookieInKEResponseIsRefused() throws {
        let records = try #require(try NTSKERecordParser.parseMessage(
            NTSKERecord(critical: true, type: .nextProtocol, body: [0, 0]).serialized
            + NTSKERecord(critical: true, type: .aeadAlgorithm, body: [0, 15]).serialized
            + NTSKERecord(critical: false, type: .newCookie, body: [UInt8](repeating: 1, count: 2000)).serialized
            + NTSKERecord(critical: true, type: .endOfMessage).serialized))
        #expect { try NTSKEResponse(records: records, server: "test") } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func incompleteKEMessageAsksForMoreBytes() throws {
        let partial = Array(NTSKERecordParser.clientRequest().dropLast(2))
        #expect(try NTSKERecordParser.parseMessage(partial) == nil)
        #expect(try NTSKERecordParser.parseMessage(NTSKERecordParser.clientRequest())?.count == 3)
    }

    @Test func extensionFieldRunningPastThePacketIsRefused() {
        let packet = [UInt8](repeating: 0, count: 48) + [0x01, 0x04, 0x01, 0x00] + [UInt8](repeating: 0, count: 28)
        #expect { try NTPExtensionFieldParser.parse(packet, from: 48) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func extensionFieldWithBadLengthIsRefused() {
        #expect { try NTPExtensionFieldParser.parse([0x01, 0x04, 0x00, 0x06, 0, 0]) } throws: { ($0 as? NTSError)?.code == .malformed }
        #expect { try NTPExtensionFieldParser.parse([0x01, 0x04, 0x00, 0x00]) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func oversizePacketAndTooManyFieldsAreRefused() {
        let huge = [UInt8](repeating: 0, count: NTPExtensionLimits.default.maxPacketBytes + 1)
        #expect { try NTPExtensionFieldParser.parse(huge) } throws: { ($0 as? NTSError)?.code == .malformed }
        let many = Array((0...NTPExtensionLimits.default.maxFields).map { _ in NTPExtensionField(type: 0x0304, body: []).serialized }.joined())
        #expect { try NTPExtensionFieldParser.parse(many) } throws: { ($0 as? NTSError)?.code == .malformed }
    }

    @Test func extensionFieldsRoundTrip() throws {
        let a = NTPExtensionField(type: 0x0104, body: Array(repeating: 7, count: 32))
        let b = NTPExtensionField(type: 0x0204, body: [1, 2, 3])
        let parsed = try NTPExtensionFieldParser.parse(a.serialized + b.serialized)
        #expect(parsed.map(\.type) == [0x0104, 0x0204])
        #expect(parsed[1].body == [1, 2, 3, 0])
        #expect(parsed[1].offset == 36)
    }

    @Test func endpointsParseLikeACommandLine() throws {
        #expect(try NetworkEndpoint(parsing: "time.example.eu", defaultPort: 4460) == NetworkEndpoint(host: "time.example.eu", port: 4460))
        #expect(try NetworkEndpoint(parsing: "127.0.0.1:14460", defaultPort: 4460) == NetworkEndpoint(host: "127.0.0.1", port: 14460))
        #expect(try NetworkEndpoint(parsing: "[::1]:14460", defaultPort: 4460) == NetworkEndpoint(host: "::1", port: 14460))
        #expect(try NetworkEndpoint(parsing: "::1", defaultPort: 4460) == NetworkEndpoint(host: "::1", port: 4460))
        for bad in ["", "host:0", "host:70000", "[::1", "[::1]x", ":4460"] {
            #expect(throws: NTSError.self, "\(bad)") { try NetworkEndpoint(parsing: bad, defaultPort: 4460) }
        }
    }

    @Test func marzulloOutvotesOneFalseticker() throws {
        let a = try #require(Marzullo.intersect([(9.0, 11.0), (10.0, 12.0), (30.0, 31.0)]))
        #expect(a.lower == 10 && a.upper == 11)
        #expect(a.members == [0, 1])
    }

    @Test func marzulloWithOneSourceReturnsItsInterval() throws {
        let a = try #require(Marzullo.intersect([(-0.5, 0.5)]))
        #expect(a.lower == -0.5 && a.upper == 0.5 && a.members == [0])
    }

    @Test func marzulloCountsTouchingIntervalsAsAgreeing() throws {
        let a = try #require(Marzullo.intersect([(0.0, 1.0), (1.0, 2.0), (5.0, 6.0)]))
        #expect(a.lower == 1 && a.upper == 1 && a.members.count == 2)
    }
}
