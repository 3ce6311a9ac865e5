import EvidenceCore
import Foundation

/// A small PDF 1.7 writer: A4 pages of text and rules, TrueType fonts embedded as subsets with
/// WinAnsi encoding (so French and German accents, €, « », – and — are real characters that
/// copy and search), and file attachments with an `/AF` relationship in the PDF/A-3 style.
///
/// Guarantees: deterministic bytes for the same input (no clock, no random ids: the document
/// id is the SHA-256 of the content); every font used is embedded; attachments are stored
/// uncompressed, byte for byte. Refuses nothing: characters outside WinAnsi print as `?`.
final class PDFDocumentWriter {
    enum Style: Hashable { case regular, bold, mono }

    static let pageWidth = 595.28, pageHeight = 841.89

    private var fonts: [Style: (font: TrueTypeFont, resource: String)] = [:]
    private var used: [Style: Set<Unicode.Scalar>] = [:]
    private(set) var pages: [[UInt8]] = []
    private var current: [UInt8] = []

    init(regular: String, bold: String, mono: String) throws {
        fonts[.regular] = (try TrueTypeFont(path: regular), "F1")
        fonts[.bold] = (try TrueTypeFont(path: bold), "F2")
        fonts[.mono] = (try TrueTypeFont(path: mono), "F3")
    }

    static let winAnsiHigh: [UInt32: UInt8] = [
        0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02C6: 0x88,
        0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91, 0x2019: 0x92, 0x201C: 0x93,
        0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98, 0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B,
        0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
    ]

    static func winAnsi(_ s: Unicode.Scalar) -> UInt8? {
        let v = s.value
        if (0x20...0x7E).contains(v) || (0xA0...0xFF).contains(v) { return UInt8(v) }
        return winAnsiHigh[v]
    }

    /// Characters the font can show in WinAnsi; others become `?`.
    func printable(_ s: String) -> [Unicode.Scalar] {
        s.unicodeScalars.map { Self.winAnsi($0) != nil ? $0 : "?" }
    }

    func width(_ s: String, _ style: Style, _ size: Double) -> Double {
        let f = fonts[style]!.font
        return Double(printable(s).reduce(0) { $0 + f.width(of: $1) }) * size / 1000
    }

    func newPage() {
        if !current.isEmpty || !pages.isEmpty { pages.append(current) }
        current = []
    }

    func finishPage() { pages.append(current); current = [] }

    private func op(_ s: String) { current += Array((s + "\n").utf8) }
    private func n(_ d: Double) -> String { String(format: "%.2f", d) }

    func text(_ s: String, x: Double, y: Double, style: Style = .regular, size: Double = 10, gray: Double = 0) {
        let chars = printable(s)
        used[style, default: []].formUnion(chars)
        var lit: [UInt8] = Array("(".utf8)
        for c in chars {
            let b = Self.winAnsi(c)!
            if b == 0x28 || b == 0x29 || b == 0x5C { lit.append(0x5C) }
            lit.append(b)
        }
        lit += Array(")".utf8)
        op("BT \(n(gray)) g /\(fonts[style]!.resource) \(n(size)) Tf \(n(x)) \(n(y)) Td")
        current += lit
        op(" Tj ET")
    }

    func fill(x: Double, y: Double, w: Double, h: Double, gray: Double) { op("\(n(gray)) g \(n(x)) \(n(y)) \(n(w)) \(n(h)) re f") }
    func fillRGB(x: Double, y: Double, w: Double, h: Double, r: Double, g: Double, b: Double) { op("\(n(r)) \(n(g)) \(n(b)) rg \(n(x)) \(n(y)) \(n(w)) \(n(h)) re f") }
    func rule(x1: Double, y1: Double, x2: Double, y2: Double, width: Double = 0.5, gray: Double = 0.6) {
        op("\(n(gray)) G \(n(width)) w \(n(x1)) \(n(y1)) m \(n(x2)) \(n(y2)) l S")
    }

    /// Serialises the document. `attachments` are (name, bytes, MIME subtype, description).
    func build(title: String, subject: String, attachments: [(name: String, bytes: [UInt8], mime: String, description: String)]) throws -> [UInt8] {
        if !current.isEmpty { finishPage() }
        var objects: [[UInt8]] = []
        func reserve() -> Int { objects.append([]); return objects.count }
        func set(_ id: Int, _ s: String) { objects[id - 1] = Array(s.utf8) }
        func setStream(_ id: Int, dict: String, _ data: [UInt8]) {
            objects[id - 1] = Array("<< \(dict) /Length \(data.count) >>\nstream\n".utf8) + data + Array("\nendstream".utf8)
        }
        let catalog = reserve(), pagesID = reserve(), info = reserve()
        var fontRefs: [String] = []
        for style in [Style.regular, .bold, .mono] {
            let (font, res) = fonts[style]!
            let fontID = reserve(), descID = reserve(), fileID = reserve()
            let file = try font.subset(used[style] ?? [])
            setStream(fileID, dict: "/Length1 \(file.count)", file)
            let scale = { (v: Int) in v * 1000 / font.unitsPerEm }
            let tag = Self.subsetTag(style)
            set(descID, "<< /Type /FontDescriptor /FontName /\(tag)+\(font.postScriptName) /Flags \(style == .mono ? 33 : 32) /FontBBox [\(scale(font.bbox.0)) \(scale(font.bbox.1)) \(scale(font.bbox.2)) \(scale(font.bbox.3))] /ItalicAngle 0 /Ascent \(scale(font.ascent)) /Descent \(scale(font.descent)) /CapHeight \(scale(font.capHeight)) /StemV \(style == .bold ? 140 : 80) /FontFile2 \(fileID) 0 R >>")
            var widths: [String] = []
            for code in 32...255 {
                let scalar: Unicode.Scalar? = (0x20...0x7E).contains(code) || (0xA0...0xFF).contains(code) ? Unicode.Scalar(UInt32(code))
                    : Self.winAnsiHigh.first { $0.value == UInt8(code) }.flatMap { Unicode.Scalar($0.key) }
                widths.append(String(scalar.map { font.width(of: $0) } ?? 0))
            }
            set(fontID, "<< /Type /Font /Subtype /TrueType /BaseFont /\(tag)+\(font.postScriptName) /FirstChar 32 /LastChar 255 /Widths [\(widths.joined(separator: " "))] /Encoding /WinAnsiEncoding /FontDescriptor \(descID) 0 R >>")
            fontRefs.append("/\(res) \(fontID) 0 R")
        }
        var kids: [Int] = []
        for content in pages {
            let pageID = reserve(), contentID = reserve()
            setStream(contentID, dict: "", content)
            set(pageID, "<< /Type /Page /Parent \(pagesID) 0 R /MediaBox [0 0 \(n(Self.pageWidth)) \(n(Self.pageHeight))] /Resources << /Font << \(fontRefs.joined(separator: " ")) >> >> /Contents \(contentID) 0 R >>")
            kids.append(pageID)
        }
        set(pagesID, "<< /Type /Pages /Kids [\(kids.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(kids.count) >>")
        var specs: [(String, Int)] = []
        for a in attachments {
            let fileID = reserve(), specID = reserve()
            setStream(fileID, dict: "/Type /EmbeddedFile /Subtype /\(a.mime.replacingOccurrences(of: "/", with: "#2F")) /Params << /Size \(a.bytes.count) >>", a.bytes)
            set(specID, "<< /Type /Filespec /F \(Self.literal(a.name)) /UF \(Self.literal(a.name)) /Desc \(Self.literal(a.description)) /AFRelationship /Source /EF << /F \(fileID) 0 R /UF \(fileID) 0 R >> >>")
            specs.append((a.name, specID))
        }
        let names = specs.map { "\(Self.literal($0.0)) \($0.1) 0 R" }.joined(separator: " ")
        let af = specs.map { "\($0.1) 0 R" }.joined(separator: " ")
        set(catalog, "<< /Type /Catalog /Pages \(pagesID) 0 R /Lang (en) /PageMode /UseAttachments /Names << /EmbeddedFiles << /Names [\(names)] >> >> /AF [\(af)] /ViewerPreferences << /DisplayDocTitle true >> >>")
        set(info, "<< /Title \(Self.textString(title)) /Subject \(Self.textString(subject)) /Producer (nis2-evidence EvidencePDF) >>")

        var out: [UInt8] = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (i, o) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(i + 1) 0 obj\n".utf8) + o + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for o in offsets { out += Array(String(format: "%010d 00000 n \n", o).utf8) }
        let id = PortableSHA256().hash(bytes: out).hex.prefix(32)
        out += Array("trailer\n<< /Size \(objects.count + 1) /Root \(catalog) 0 R /Info \(info) 0 R /ID [<\(id)> <\(id)>] >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return out
    }

    static func subsetTag(_ s: Style) -> String { switch s { case .regular: "NISAAA"; case .bold: "NISAAB"; case .mono: "NISAAC" } }

    /// A PDF literal string of ASCII text (names of attachments).
    static func literal(_ s: String) -> String {
        "(" + s.unicodeScalars.map { c -> String in
            switch c { case "(", ")", "\\": return "\\" + String(c); default: return c.isASCII && c.value >= 0x20 ? String(c) : "?" }
        }.joined() + ")"
    }

    /// A PDF text string in UTF-16BE with BOM (document information).
    static func textString(_ s: String) -> String {
        "<FEFF" + s.utf16.map { String(format: "%04X", $0) }.joined() + ">"
    }
}
