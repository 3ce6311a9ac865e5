/// An element of GF(2^255 - 19), as five 51-bit limbs (little-endian).
///
/// Invariant kept by every operation: each limb is below 2^52, so products of two limbs
/// (one of them multiplied by 19) stay below 2^110 and sums of five stay below 2^113.
/// Arithmetic does not branch on the values; equality and parity read the canonical form.
struct FieldElement: Sendable {
    var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64

    static let mask51: UInt64 = (1 << 51) - 1
    static let zero = FieldElement(l0: 0, l1: 0, l2: 0, l3: 0, l4: 0)
    static let one = FieldElement(l0: 1, l1: 0, l2: 0, l3: 0, l4: 0)

    init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64) {
        self.l0 = l0; self.l1 = l1; self.l2 = l2; self.l3 = l3; self.l4 = l4
    }

    init(_ small: UInt64) {
        self.init(l0: small & Self.mask51, l1: small >> 51, l2: 0, l3: 0, l4: 0)
    }

    /// Reads 32 little-endian bytes, ignoring bit 255. Returns the value and whether it was
    /// canonical (below p).
    static func decode(_ b: ArraySlice<UInt8>) -> (FieldElement, canonical: Bool) {
        precondition(b.count == 32)
        var w = [UInt64](repeating: 0, count: 4)
        for (i, byte) in b.enumerated() { w[i / 8] |= UInt64(byte) << (8 * UInt64(i % 8)) }
        w[3] &= 0x7fff_ffff_ffff_ffff
        let f = FieldElement(l0: w[0] & mask51,
                             l1: (w[0] >> 51 | w[1] << 13) & mask51,
                             l2: (w[1] >> 38 | w[2] << 26) & mask51,
                             l3: (w[2] >> 25 | w[3] << 39) & mask51,
                             l4: w[3] >> 12)
        // Canonical iff re-encoding gives the same 255 bits back.
        var again = f.encoded()
        again[31] &= 0x7f
        var orig = Array(b)
        orig[31] &= 0x7f
        return (f, again == orig)
    }

    /// The canonical 32-byte little-endian encoding (fully reduced below p).
    func encoded() -> [UInt8] {
        var t = self.carried()
        // t < 2^255 + small: subtract p once if t >= p, by adding 19 and looking at bit 255.
        var q = (t.l0 &+ 19) >> 51
        q = (t.l1 &+ q) >> 51
        q = (t.l2 &+ q) >> 51
        q = (t.l3 &+ q) >> 51
        q = (t.l4 &+ q) >> 51
        t.l0 &+= 19 &* q
        t.l1 &+= t.l0 >> 51; t.l0 &= Self.mask51
        t.l2 &+= t.l1 >> 51; t.l1 &= Self.mask51
        t.l3 &+= t.l2 >> 51; t.l2 &= Self.mask51
        t.l4 &+= t.l3 >> 51; t.l3 &= Self.mask51
        t.l4 &= Self.mask51
        let w0 = t.l0 | t.l1 << 51
        let w1 = t.l1 >> 13 | t.l2 << 38
        let w2 = t.l2 >> 26 | t.l3 << 25
        let w3 = t.l3 >> 39 | t.l4 << 12
        var out = [UInt8](); out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))) } }
        return out
    }

    /// Weak reduction: every limb below 2^51 + 2^13, value unchanged mod p.
    func carried() -> FieldElement {
        var r = self
        r.l1 &+= r.l0 >> 51; r.l0 &= Self.mask51
        r.l2 &+= r.l1 >> 51; r.l1 &= Self.mask51
        r.l3 &+= r.l2 >> 51; r.l2 &= Self.mask51
        r.l4 &+= r.l3 >> 51; r.l3 &= Self.mask51
        r.l0 &+= 19 &* (r.l4 >> 51); r.l4 &= Self.mask51
        r.l1 &+= r.l0 >> 51; r.l0 &= Self.mask51
        return r
    }

    var isNegative: Bool { encoded()[0] & 1 == 1 }
    var isZero: Bool { encoded().allSatisfy { $0 == 0 } }

    static func == (a: FieldElement, b: FieldElement) -> Bool { a.encoded() == b.encoded() }

    static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        FieldElement(l0: a.l0 &+ b.l0, l1: a.l1 &+ b.l1, l2: a.l2 &+ b.l2, l3: a.l3 &+ b.l3, l4: a.l4 &+ b.l4).carried()
    }

    /// a - b computed as a + 4p - b, so no limb underflows (b's limbs are below 2^52 < 4p's).
    static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        let p4lo: UInt64 = 0x1f_ffff_ffff_ffb4   // 4 * (2^51 - 19)
        let p4: UInt64 = 0x1f_ffff_ffff_fffc     // 4 * (2^51 - 1)
        return FieldElement(l0: a.l0 &+ p4lo &- b.l0, l1: a.l1 &+ p4 &- b.l1, l2: a.l2 &+ p4 &- b.l2,
                            l3: a.l3 &+ p4 &- b.l3, l4: a.l4 &+ p4 &- b.l4).carried()
    }

    static prefix func - (a: FieldElement) -> FieldElement { .zero - a }

    static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let b1 = b.l1 &* 19, b2 = b.l2 &* 19, b3 = b.l3 &* 19, b4 = b.l4 &* 19
        var r0 = Wide(a.l0, b.l0); r0.add(a.l1, b4); r0.add(a.l2, b3); r0.add(a.l3, b2); r0.add(a.l4, b1)
        var r1 = Wide(a.l0, b.l1); r1.add(a.l1, b.l0); r1.add(a.l2, b4); r1.add(a.l3, b3); r1.add(a.l4, b2)
        var r2 = Wide(a.l0, b.l2); r2.add(a.l1, b.l1); r2.add(a.l2, b.l0); r2.add(a.l3, b4); r2.add(a.l4, b3)
        var r3 = Wide(a.l0, b.l3); r3.add(a.l1, b.l2); r3.add(a.l2, b.l1); r3.add(a.l3, b.l0); r3.add(a.l4, b4)
        var r4 = Wide(a.l0, b.l4); r4.add(a.l1, b.l3); r4.add(a.l2, b.l2); r4.add(a.l3, b.l1); r4.add(a.l4, b.l0)
        var out = FieldElement.zero
        out.l0 = r0.low51
        r1.add(r0.shifted51); out.l1 = r1.low51
        r2.add(r1.shifted51); out.l2 = r2.low51
        r3.add(r2.shifted51); out.l3 = r3.low51
        r4.add(r3.shifted51); out.l4 = r4.low51
        var r5 = Wide(r4.shifted51, 19)        // carry out of limb 4 wraps with factor 19
        r5.add(out.l0)
        out.l0 = r5.low51
        out.l1 &+= r5.shifted51
        return out
    }

    func squared() -> FieldElement { self * self }

    /// self^e for a public exponent given as 32 little-endian bytes.
    func power(_ e: [UInt8]) -> FieldElement {
        var r = FieldElement.one
        for i in stride(from: 255, through: 0, by: -1) {
            r = r.squared()
            if (e[i / 8] >> UInt8(i % 8)) & 1 == 1 { r = r * self }
        }
        return r
    }

    /// Multiplicative inverse (p - 2 power); zero maps to zero.
    func inverted() -> FieldElement { power(Self.pMinus2) }

    /// self^((p - 5) / 8), the core of the RFC 8032 square-root step.
    func powPMinus5Over8() -> FieldElement { power(Self.pMinus5Over8) }

    /// Selects `b` when `flag` is 1 and `a` when it is 0, without a branch.
    static func select(_ a: FieldElement, _ b: FieldElement, _ flag: UInt64) -> FieldElement {
        let m = 0 &- flag
        return FieldElement(l0: a.l0 ^ (m & (a.l0 ^ b.l0)), l1: a.l1 ^ (m & (a.l1 ^ b.l1)),
                            l2: a.l2 ^ (m & (a.l2 ^ b.l2)), l3: a.l3 ^ (m & (a.l3 ^ b.l3)),
                            l4: a.l4 ^ (m & (a.l4 ^ b.l4)))
    }

    private static let pMinus2: [UInt8] = [0xeb] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
    private static let pMinus5Over8: [UInt8] = [0xfd] + [UInt8](repeating: 0xff, count: 30) + [0x0f]

    /// sqrt(-1) = 2^((p - 1) / 4).
    static let sqrtMinusOne: FieldElement = FieldElement(2).power([0xfb] + [UInt8](repeating: 0xff, count: 30) + [0x1f])
}

/// A 128-bit accumulator built from 64-bit halves (portable to every Swift platform).
private struct Wide {
    var lo: UInt64, hi: UInt64

    @inline(__always) init(_ a: UInt64, _ b: UInt64) {
        let (h, l) = a.multipliedFullWidth(by: b)
        hi = h; lo = l
    }

    @inline(__always) mutating func add(_ a: UInt64, _ b: UInt64) {
        let (h, l) = a.multipliedFullWidth(by: b)
        let (s, o) = lo.addingReportingOverflow(l)
        lo = s; hi = hi &+ h &+ (o ? 1 : 0)
    }

    @inline(__always) mutating func add(_ a: UInt64) {
        let (s, o) = lo.addingReportingOverflow(a)
        lo = s; hi &+= (o ? 1 : 0)
    }

    var low51: UInt64 { lo & FieldElement.mask51 }
    var shifted51: UInt64 { lo >> 51 | hi << 13 }
}
