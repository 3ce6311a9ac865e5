import EvidenceWebAuthn
import Testing

@Suite("Bounded CBOR decoding", .timeLimit(.minutes(1)))
struct CBORDecoderTests {
    let decoder = CBORDecoder()

    func code(_ bytes: [UInt8], limits: CBORLimits = .webAuthn) -> WebAuthnError.Code? {
        do { _ = try CBORDecoder(limits: limits).decode(bytes); return nil } catch let e as WebAuthnError { return e.code } catch { return nil }
    }

    @Test("a map with integer, negative, byte and text entries decodes to its values")
    func decodesMap() throws {
        // {1: 2, 3: -7, "k": h'0102', "t": "x", "b": true, "n": null}
        let v = try decoder.decode([0xa6, 0x01, 0x02, 0x03, 0x26, 0x61, 0x6b, 0x42, 0x01, 0x02, 0x61, 0x74, 0x61, 0x78,
                                    0x61, 0x62, 0xf5, 0x61, 0x6e, 0xf6])
        #expect(v[int: 1]?.intValue == 2)
        #expect(v[int: 3]?.intValue == -7)
        #expect(v[text: "k"]?.bytesValue == [1, 2])
        #expect(v[text: "t"]?.textValue == "x")
        #expect(v[text: "b"] == .bool(true))
        #expect(v[text: "n"] == .null)
    }

    @Test("input cut inside a byte string is refused as malformed")
    func truncated() { #expect(code([0x45, 0x01, 0x02]) == .malformedCBOR) }

    @Test("a byte string claiming more than the string bound is refused before allocating")
    func oversizedString() { #expect(code([0x5a, 0x7f, 0xff, 0xff, 0xff]) == .limitExceeded) }

    @Test("an array claiming more entries than the input holds is refused before allocating")
    func hugeCount() { #expect(code([0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]) == .limitExceeded) }

    @Test("nesting deeper than the bound is refused")
    func deeplyNested() { #expect(code(Array(repeating: 0x81, count: 100) + [0x00]) == .limitExceeded) }

    @Test("input over the total size bound is refused")
    func oversizedInput() {
        #expect(code([0x40] + [UInt8](repeating: 0, count: 100), limits: CBORLimits(maxInputBytes: 64)) == .limitExceeded)
    }

    @Test("more items than the item bound are refused")
    func tooManyItems() {
        #expect(code([0x98, 0x20] + [UInt8](repeating: 0, count: 32), limits: CBORLimits(maxItems: 16)) == .limitExceeded)
    }

    @Test("indefinite lengths, tags, floats and non-shortest arguments are refused")
    func outsideSubset() {
        #expect(code([0x9f, 0x01, 0xff]) == .malformedCBOR)
        #expect(code([0xc2, 0x41, 0x01]) == .malformedCBOR)
        #expect(code([0xf9, 0x3c, 0x00]) == .malformedCBOR)
        #expect(code([0x18, 0x05]) == .malformedCBOR)
    }

    @Test("duplicate map keys and trailing bytes are refused")
    func duplicatesAndTrailing() {
        #expect(code([0xa2, 0x01, 0x02, 0x01, 0x03]) == .malformedCBOR)
        #expect(code([0x01, 0x02]) == .malformedCBOR)
    }

    @Test("text that is not UTF-8 is refused")
    func badUTF8() { #expect(code([0x62, 0xc3, 0x28]) == .malformedCBOR) }

    @Test("COSE keys of a mismatched type and algorithm are refused")
    func coseMismatch() {
        // {1: 1 (OKP), 3: -7 (ES256), -1: 6, -2: 32 bytes}
        let key: [UInt8] = [0xa4, 0x01, 0x01, 0x03, 0x26, 0x20, 0x06, 0x21, 0x58, 0x20] + [UInt8](repeating: 1, count: 32)
        #expect(throws: WebAuthnError.self) { try COSEPublicKey(encoded: key) }
    }
}
