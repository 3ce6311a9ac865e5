/// A point of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19)
/// (RFC 8032 §5.1), in extended coordinates (X : Y : Z : T) with x = X/Z, y = Y/Z, xy = T/Z.
///
/// Addition uses the complete formula for a = -1 (Hisil-Wong-Carter-Dawson 2008, "add-2008-hwcd-3"),
/// valid for doubling too, so the ladder below has no special cases.
struct EdwardsPoint: Sendable {
    var x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement

    static let identity = EdwardsPoint(x: .zero, y: .one, z: .one, t: .zero)

    /// d = -121665 / 121666.
    static let d: FieldElement = -(FieldElement(121665) * FieldElement(121666).inverted())
    static let d2: FieldElement = d + d

    /// The base point B of RFC 8032: y = 4/5, x even.
    static let base: EdwardsPoint = {
        let encodedBase = [UInt8(0x58)] + [UInt8](repeating: 0x66, count: 31)
        guard let b = decode(encodedBase[...]) else { fatalError("the Ed25519 base point must decode") }
        return b
    }()

    static func + (p: EdwardsPoint, q: EdwardsPoint) -> EdwardsPoint {
        let a = (p.y - p.x) * (q.y - q.x)
        let b = (p.y + p.x) * (q.y + q.x)
        let c = p.t * d2 * q.t
        let zz = p.z * q.z
        let dd = zz + zz
        let e = b - a, f = dd - c, g = dd + c, h = b + a
        return EdwardsPoint(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    static prefix func - (p: EdwardsPoint) -> EdwardsPoint {
        EdwardsPoint(x: -p.x, y: p.y, z: p.z, t: -p.t)
    }

    static func select(_ a: EdwardsPoint, _ b: EdwardsPoint, _ flag: UInt64) -> EdwardsPoint {
        EdwardsPoint(x: .select(a.x, b.x, flag), y: .select(a.y, b.y, flag),
                     z: .select(a.z, b.z, flag), t: .select(a.t, b.t, flag))
    }

    /// [k]P for a 256-bit scalar given as 32 little-endian bytes. Every bit costs one double and
    /// one addition, and the bit only chooses between two results by masking, so the sequence
    /// of operations and memory accesses does not depend on the scalar.
    func multiplied(by k: [UInt8]) -> EdwardsPoint {
        var r = EdwardsPoint.identity
        for i in stride(from: 255, through: 0, by: -1) {
            r = r + r
            let bit = UInt64((k[i >> 3] >> UInt8(i & 7)) & 1)
            r = .select(r, r + self, bit)
        }
        return r
    }

    /// RFC 8032 §5.1.2 encoding: y with the sign of x in bit 255.
    func encoded() -> [UInt8] {
        let zi = z.inverted()
        let ax = x * zi, ay = y * zi
        var out = ay.encoded()
        out[31] |= (ax.isNegative ? 0x80 : 0)
        return out
    }

    /// RFC 8032 §5.1.3 decoding. Returns nil for a non-canonical y (>= p), for a y with no
    /// matching x on the curve, and for x = 0 with the sign bit set.
    static func decode(_ bytes: ArraySlice<UInt8>) -> EdwardsPoint? {
        guard bytes.count == 32 else { return nil }
        let sign = bytes[bytes.startIndex + 31] >> 7
        let (y, canonical) = FieldElement.decode(bytes)
        guard canonical else { return nil }
        let yy = y.squared()
        let u = yy - .one
        let v = d * yy + .one
        let v3 = v.squared() * v
        var x = u * v3 * (u * v3 * v3 * v).powPMinus5Over8()
        let vxx = v * x.squared()
        if vxx == u {
            // x is a root.
        } else if vxx == -u {
            x = x * FieldElement.sqrtMinusOne
        } else {
            return nil
        }
        if x.isZero && sign == 1 { return nil }
        if (x.isNegative ? 1 : 0) != sign { x = -x }
        return EdwardsPoint(x: x, y: y, z: .one, t: x * y)
    }
}

/// Arithmetic modulo the group order L = 2^252 + 27742317777372353535851937790883648493,
/// on 256-bit little-endian scalars. Reduction is bit-serial with a masked conditional
/// subtraction, so it does not branch on the value.
enum ScalarModL {
    /// L as four 64-bit little-endian words.
    static let order: [UInt64] = [0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000]

    /// The value of little-endian `bytes` (any length that is a multiple of 8) mod L, as 32 bytes.
    static func reduce(_ bytes: [UInt8]) -> [UInt8] {
        var words = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
        for (i, b) in bytes.enumerated() { words[i / 8] |= UInt64(b) << (8 * UInt64(i % 8)) }
        return toBytes(reduceWords(words))
    }

    /// (a * b + c) mod L for 32-byte little-endian a, b, c.
    static func multiplyAdd(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) -> [UInt8] {
        let aw = words(a), bw = words(b), cw = words(c)
        var product = [UInt64](repeating: 0, count: 9)
        for i in 0..<4 {
            var carry: UInt64 = 0
            for j in 0..<4 {
                let (h, l) = aw[i].multipliedFullWidth(by: bw[j])
                let (s1, o1) = product[i + j].addingReportingOverflow(l)
                let (s2, o2) = s1.addingReportingOverflow(carry)
                product[i + j] = s2
                carry = h &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            product[i + 4] = carry
        }
        var carry: UInt64 = 0
        for i in 0..<9 {
            let add = i < 4 ? cw[i] : 0
            let (s1, o1) = product[i].addingReportingOverflow(add)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            product[i] = s2
            carry = (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
        }
        return toBytes(reduceWords(product))
    }

    /// True when the 32 little-endian bytes encode an integer below L (RFC 8032 §5.1.7 step 1).
    static func isCanonical(_ s: ArraySlice<UInt8>) -> Bool {
        let w = words(Array(s))
        for i in stride(from: 3, through: 0, by: -1) where w[i] != order[i] {
            return w[i] < order[i]
        }
        return false
    }

    private static func words(_ b: [UInt8]) -> [UInt64] {
        var w = [UInt64](repeating: 0, count: 4)
        for (i, byte) in b.prefix(32).enumerated() { w[i / 8] |= UInt64(byte) << (8 * UInt64(i % 8)) }
        return w
    }

    private static func toBytes(_ w: [UInt64]) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        for x in w.prefix(4) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) } }
        return out
    }

    /// r = 0; for each bit from the top: r = 2r + bit, minus L if that is >= L. r < L < 2^253
    /// throughout, so 2r + 1 fits in four words and one subtraction suffices.
    private static func reduceWords(_ x: [UInt64]) -> [UInt64] {
        var r: [UInt64] = [0, 0, 0, 0]
        for i in stride(from: x.count * 64 - 1, through: 0, by: -1) {
            let bit = (x[i >> 6] >> UInt64(i & 63)) & 1
            r[3] = r[3] << 1 | r[2] >> 63
            r[2] = r[2] << 1 | r[1] >> 63
            r[1] = r[1] << 1 | r[0] >> 63
            r[0] = r[0] << 1 | bit
            var diff: [UInt64] = [0, 0, 0, 0]
            var borrow: UInt64 = 0
            for j in 0..<4 {
                let (d1, b1) = r[j].subtractingReportingOverflow(order[j])
                let (d2, b2) = d1.subtractingReportingOverflow(borrow)
                diff[j] = d2
                borrow = (b1 ? 1 : 0) | (b2 ? 1 : 0)
            }
            let keep = 0 &- borrow            // all ones when r < L (borrow), else zero
            for j in 0..<4 { r[j] = (r[j] & keep) | (diff[j] & ~keep) }
        }
        return r
    }
}
