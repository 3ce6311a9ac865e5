/// base64url without padding (RFC 7515 §2), strict: padding, whitespace and characters
/// outside the alphabet are refused, and so are non-zero trailing bits.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        let a = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = [UInt8](); out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [a[Int(v >> 18)], a[Int(v >> 12 & 63)], a[Int(v >> 6 & 63)], a[Int(v & 63)]]
            i += 3
        }
        if bytes.count - i == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [a[Int(v >> 18)], a[Int(v >> 12 & 63)]]
        } else if bytes.count - i == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [a[Int(v >> 18)], a[Int(v >> 12 & 63)], a[Int(v >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything that is not canonical unpadded base64url, or longer than `maxBytes` decoded.
    public static func decode(_ s: some StringProtocol, maxBytes: Int = 1 << 20) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 4 != 1, u.count / 4 * 3 <= maxBytes else { return nil }
        func val(_ c: UInt8) -> UInt32? {
            switch c {
            case 0x41...0x5a: UInt32(c - 0x41)
            case 0x61...0x7a: UInt32(c - 0x61 + 26)
            case 0x30...0x39: UInt32(c - 0x30 + 52)
            case 0x2d: 62
            case 0x5f: 63
            default: nil
            }
        }
        var out = [UInt8](); out.reserveCapacity(u.count * 3 / 4)
        var acc: UInt32 = 0, bits = 0
        for c in u {
            guard let v = val(c) else { return nil }
            acc = acc << 6 | v; bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(acc >> UInt32(bits) & 0xff)) }
        }
        guard acc & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
