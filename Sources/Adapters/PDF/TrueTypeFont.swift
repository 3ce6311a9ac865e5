import EvidenceCore
import Foundation

/// A TrueType font read from a file we trust (a system font package), with the metrics a PDF
/// simple font needs and a glyph subset for embedding.
///
/// Guarantees: every table offset and length is checked against the file before it is read;
/// `subset` keeps the glyph ids (unused glyphs become empty), so the PDF's widths and the
/// font's cmap stay valid without renumbering.
/// Refuses: a file that is not a TrueType (glyf-based) font or lacks a Unicode BMP cmap.
struct TrueTypeFont {
    let bytes: [UInt8]
    let tables: [String: (offset: Int, length: Int)]
    let unitsPerEm: Int
    let ascent: Int, descent: Int, capHeight: Int
    let bbox: (Int, Int, Int, Int)
    let advances: [Int]
    let cmap: [UInt32: Int]
    let longLoca: Bool
    let postScriptName: String

    struct Malformed: Error, CustomStringConvertible { var description: String }

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Malformed(description: "cannot read font \(path); install fonts-dejavu-core (scripts/apt-packages.txt)")
        }
        try self.init(bytes: [UInt8](data), name: (path as NSString).lastPathComponent)
    }

    init(bytes: [UInt8], name: String) throws {
        self.bytes = bytes
        func u16(_ o: Int) throws -> Int { guard o >= 0, o + 2 <= bytes.count else { throw Malformed(description: "\(name): truncated") }; return Int(bytes[o]) << 8 | Int(bytes[o + 1]) }
        func i16(_ o: Int) throws -> Int { let v = try u16(o); return v >= 0x8000 ? v - 0x10000 : v }
        func u32(_ o: Int) throws -> Int { try u16(o) << 16 | u16(o + 2) }
        guard try u32(0) == 0x0001_0000 else { throw Malformed(description: "\(name) is not a TrueType font") }
        var t: [String: (Int, Int)] = [:]
        let n = try u16(4)
        for i in 0..<n {
            let rec = 12 + 16 * i
            let tag = String(decoding: bytes[rec..<min(rec + 4, bytes.count)], as: UTF8.self)
            let off = try u32(rec + 8), len = try u32(rec + 12)
            guard off + len <= bytes.count else { throw Malformed(description: "\(name): table \(tag) beyond the file") }
            t[tag] = (off, len)
        }
        for req in ["head", "hhea", "hmtx", "maxp", "cmap", "loca", "glyf"] where t[req] == nil { throw Malformed(description: "\(name): no \(req) table") }
        tables = t
        let head = t["head"]!.0, hhea = t["hhea"]!.0
        unitsPerEm = try u16(head + 18)
        bbox = (try i16(head + 36), try i16(head + 38), try i16(head + 40), try i16(head + 42))
        longLoca = try u16(head + 50) == 1
        ascent = try i16(hhea + 4); descent = try i16(hhea + 6)
        capHeight = try t["OS/2"].map { try i16($0.0 + 88) } ?? ascent
        let glyphs = try u16(t["maxp"]!.0 + 4)
        let nh = try u16(hhea + 34)
        var adv: [Int] = []
        let hmtx = t["hmtx"]!.0
        for g in 0..<glyphs { adv.append(try u16(hmtx + 4 * min(g, nh - 1))) }
        advances = adv
        // cmap: the Unicode BMP subtable (3,1) in format 4.
        let cm = t["cmap"]!.0
        var sub: Int?
        for i in 0..<(try u16(cm + 2)) {
            let r = cm + 4 + 8 * i
            if try u16(r) == 3, try u16(r + 2) == 1 { sub = cm + (try u32(r + 4)) }
        }
        guard let s = sub, try u16(s) == 4 else { throw Malformed(description: "\(name): no format-4 Unicode cmap") }
        let segs = try u16(s + 6) / 2
        var map: [UInt32: Int] = [:]
        let ends = s + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs
        for i in 0..<segs {
            let end = try u16(ends + 2 * i), start = try u16(starts + 2 * i), delta = try u16(deltas + 2 * i), ro = try u16(ranges + 2 * i)
            guard start <= end, start < 0xFFFF else { continue }
            for c in start...end where c <= 0x2122 {
                var g: Int
                if ro == 0 { g = (c + delta) & 0xFFFF } else {
                    g = try u16(ranges + 2 * i + ro + 2 * (c - start))
                    if g != 0 { g = (g + delta) & 0xFFFF }
                }
                if g != 0, g < glyphs { map[UInt32(c)] = g }
            }
        }
        cmap = map
        postScriptName = name.replacingOccurrences(of: ".ttf", with: "")
    }

    /// Advance width of a character in 1/1000 em (PDF glyph space).
    func width(of scalar: Unicode.Scalar) -> Int {
        let g = cmap[scalar.value] ?? 0
        return advances[g] * 1000 / unitsPerEm
    }

    /// The font with only the glyphs of `scalars` (plus .notdef and composite parts); hinting
    /// and layout tables beyond what a PDF viewer needs are dropped.
    func subset(_ scalars: Set<Unicode.Scalar>) throws -> [UInt8] {
        let (locaOff, _) = tables["loca"]!, (glyfOff, glyfLen) = tables["glyf"]!
        func u16(_ o: Int) -> Int { Int(bytes[o]) << 8 | Int(bytes[o + 1]) }
        func u32(_ o: Int) -> Int { u16(o) << 16 | u16(o + 2) }
        func loca(_ g: Int) -> Int { longLoca ? u32(locaOff + 4 * g) : 2 * u16(locaOff + 2 * g) }
        var keep: Set<Int> = [0]
        var queue = scalars.compactMap { cmap[$0.value] }
        while let g = queue.popLast() {
            guard keep.insert(g).inserted || g == 0 else { continue }
            let start = loca(g), end = loca(g + 1)
            guard end > start, start + 10 <= glyfLen, end <= glyfLen else { continue }
            if Int16(bitPattern: UInt16(u16(glyfOff + start))) < 0 { // composite: walk components
                var p = glyfOff + start + 10
                while p + 4 <= glyfOff + end {
                    let flags = u16(p), comp = u16(p + 2)
                    queue.append(comp)
                    p += 4 + (flags & 1 != 0 ? 4 : 2)
                    p += flags & 8 != 0 ? 2 : flags & 0x40 != 0 ? 4 : flags & 0x80 != 0 ? 8 : 0
                    if flags & 0x20 == 0 { break }
                }
            }
        }
        let glyphs = advances.count
        var glyf: [UInt8] = [], newLoca: [UInt8] = []
        for g in 0..<glyphs {
            newLoca.appendBE32(UInt32(glyf.count))
            if keep.contains(g) {
                let s = loca(g), e = loca(g + 1)
                if e > s, e <= glyfLen { glyf += bytes[glyfOff + s..<glyfOff + e]; while glyf.count % 4 != 0 { glyf.append(0) } }
            }
        }
        newLoca.appendBE32(UInt32(glyf.count))
        var out: [String: [UInt8]] = [:]
        for tag in ["cmap", "cvt ", "fpgm", "hhea", "hmtx", "maxp", "prep", "OS/2"] {
            if let (o, l) = tables[tag] { out[tag] = Array(bytes[o..<o + l]) }
        }
        var head = Array(bytes[tables["head"]!.0..<tables["head"]!.0 + tables["head"]!.1])
        head[50] = 0; head[51] = 1 // long loca
        head[8] = 0; head[9] = 0; head[10] = 0; head[11] = 0 // checksum adjustment: recomputed below
        out["head"] = head
        out["loca"] = newLoca; out["glyf"] = glyf
        out["post"] = [0, 3, 0, 0] + Array(bytes[tables["post"]!.0 + 4..<tables["post"]!.0 + 32])
        return Self.assemble(out)
    }

    static func assemble(_ tables: [String: [UInt8]]) -> [UInt8] {
        let tags = tables.keys.sorted()
        var out: [UInt8] = []
        out.appendBE32(0x0001_0000)
        let n = tags.count
        var pow2 = 1, log2 = 0
        while pow2 * 2 <= n { pow2 *= 2; log2 += 1 }
        out.appendBE16(UInt16(n)); out.appendBE16(UInt16(pow2 * 16)); out.appendBE16(UInt16(log2)); out.appendBE16(UInt16(n * 16 - pow2 * 16))
        var offset = 12 + 16 * n
        var body: [UInt8] = []
        var headAt = 0
        for tag in tags {
            var t = tables[tag]!
            let len = t.count
            while t.count % 4 != 0 { t.append(0) }
            out += Array(tag.utf8); out.appendBE32(checksum(t)); out.appendBE32(UInt32(offset)); out.appendBE32(UInt32(len))
            if tag == "head" { headAt = offset }
            body += t; offset += t.count
        }
        out += body
        let adjust = 0xB1B0_AFBA &- checksum(out)
        out[headAt + 8] = UInt8(adjust >> 24); out[headAt + 9] = UInt8((adjust >> 16) & 0xff)
        out[headAt + 10] = UInt8((adjust >> 8) & 0xff); out[headAt + 11] = UInt8(adjust & 0xff)
        return out
    }

    static func checksum(_ b: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i < b.count {
            var w: UInt32 = 0
            for k in 0..<4 { w = w << 8 | UInt32(i + k < b.count ? b[i + k] : 0) }
            s = s &+ w; i += 4
        }
        return s
    }
}

extension Array where Element == UInt8 {
    mutating func appendBE16(_ v: UInt16) { append(UInt8(v >> 8)); append(UInt8(v & 0xff)) }
    mutating func appendBE32(_ v: UInt32) { for s in [24, 16, 8, 0] { append(UInt8((v >> UInt32(s)) & 0xff)) } }
}
