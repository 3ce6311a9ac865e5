import Foundation
import EvidenceCore
import Testing

@Suite struct JCSTests {
    func canon(_ s: String) throws -> String { String(decoding: try JCS.canonicalize(json: Array(s.utf8)), as: UTF8.self) }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (4.5, "4.5"), (0.002, "0.002"),
        (1e-7, "1e-7"), (1e-6, "0.000001"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e30, "1e+30"),
        (333333333.33333329, "333333333.3333333"), (9007199254740992.0, "9007199254740992"),
        (1e-27, "1e-27"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456789012345680000.0, "123456789012345680000"), (0.1, "0.1"), (295147905179352830000.0, "295147905179352830000"),
    ])
    func numbersFollowTheECMAScriptForm(_ value: Double, _ text: String) {
        #expect(JCS.formatNumber(value) == text)
    }

    @Test func rfc8785SampleIsCanonicalised() throws {
        let input = #"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#
        #expect(try canon(input) == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    @Test func keysSortByUTF16CodeUnits() throws {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in scalar order.
        #expect(try canon("{\"\u{FB33}\":1,\"\u{1F600}\":2,\"a\":3,\"B\":4}") == "{\"B\":4,\"a\":3,\"\u{1F600}\":2,\"\u{FB33}\":1}")
    }

    @Test(arguments: [
        "{\"a\":1,\"a\":2}", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "\"\\udc00x\"", "01", "1.", "-", "tru", "\"a\u{01}\"",
        "[1] [2]", "{\"a\":\"\\x\"}", "1e999", "",
    ])
    func malformedJSONIsRefused(_ s: String) {
        #expect(throws: EvidenceError.self) { try JSONParser.parse(s) }
    }

    @Test func nestingDepthIsBounded() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: EvidenceError.self) { try JSONParser.parse(deep, limits: JSONLimits(maxDepth: 64)) }
        #expect((try? JSONParser.parse(deep, limits: JSONLimits(maxDepth: 128))) != nil)
    }

    @Test func documentSizeIsBoundedBeforeParsing() {
        #expect(throws: EvidenceError.self) { try JSONParser.parse(String(repeating: " ", count: 100) + "1", limits: JSONLimits(maxBytes: 50)) }
    }

    @Test func timestampsNeedAnOffset() throws {
        #expect(throws: EvidenceError.self) { try Timestamp.parse("2026-01-30T10:00:00") }
        #expect(throws: EvidenceError.self) { try Timestamp.parse("2026-02-30T10:00:00Z") }
        let d = try Timestamp.parse("2026-01-30T10:00:00+01:00")
        #expect(Timestamp.format(d) == "2026-01-30T09:00:00Z")
        #expect(Timestamp.format(try Timestamp.parse("2024-02-29T23:59:59.250-00:30")) == "2024-03-01T00:29:59.250Z")
    }
}

@Suite struct TimestampFormatTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"), (951_782_400.0, "2000-02-29T00:00:00Z"), (1_769_850_000.5, "2026-01-31T09:00:00.500Z"),
        (1_769_849_999.9996, "2026-01-31T09:00:00Z"), (253_402_300_799.0, "9999-12-31T23:59:59Z"), (1_769_850_000.007, "2026-01-31T09:00:00.007Z"),
    ])
    func formatsUTCWithMillisecondsOnlyWhenPresent(_ t: Double, _ text: String) throws {
        #expect(Timestamp.format(Date(timeIntervalSince1970: t)) == text)
        #expect(abs(try Timestamp.parse(text).timeIntervalSince1970 - t) < 0.001)
    }
}
