import Foundation

/// Flowing layout on A4 pages: headings, wrapped paragraphs, key/value blocks, tables with
/// wrapped cells and repeated headers, and a footer with the page number on every page.
struct PageLayout {
    let pdf: PDFDocumentWriter
    let footer: String
    let left = 56.0, right = PDFDocumentWriter.pageWidth - 56.0, top = PDFDocumentWriter.pageHeight - 56.0, bottom = 64.0
    var y: Double
    var pageNumber = 0

    init(pdf: PDFDocumentWriter, footer: String) {
        self.pdf = pdf; self.footer = footer; y = PDFDocumentWriter.pageHeight - 56.0
        startPage()
    }

    private mutating func startPage() {
        if pageNumber > 0 { pdf.finishPage() }
        pageNumber += 1
        y = top
        pdf.rule(x1: left, y1: 40, x2: right, y2: 40, width: 0.4, gray: 0.75)
        pdf.text(footer, x: left, y: 28, style: .mono, size: 6.5, gray: 0.45)
        pdf.text("page \(pageNumber)", x: right - pdf.width("page \(pageNumber)", .regular, 8), y: 28, size: 8, gray: 0.45)
    }

    mutating func ensure(_ h: Double) { if y - h < bottom { startPage() } }

    mutating func cover(title: String, tenant: String) {
        pdf.fillRGB(x: 0, y: PDFDocumentWriter.pageHeight - 150, w: PDFDocumentWriter.pageWidth, h: 150, r: 0.11, g: 0.23, b: 0.40)
        pdf.text("NIS2 EVIDENCE PACK", x: left, y: PDFDocumentWriter.pageHeight - 62, style: .bold, size: 10, gray: 1)
        pdf.text("Dossier de preuves · Beweismittelpaket · Preuve d’intégrité vérifiable hors ligne", x: left, y: PDFDocumentWriter.pageHeight - 76, size: 8.5, gray: 0.85)
        var ty = PDFDocumentWriter.pageHeight - 104
        for line in wrap(title, width: right - left, style: .bold, size: 20).prefix(2) {
            pdf.text(line, x: left, y: ty, style: .bold, size: 20, gray: 1); ty -= 24
        }
        pdf.text("Tenant \(tenant)", x: left, y: PDFDocumentWriter.pageHeight - 140, size: 10, gray: 0.9)
        y = PDFDocumentWriter.pageHeight - 180
    }

    mutating func heading(_ s: String) {
        ensure(48)
        y -= 14
        pdf.text(s, x: left, y: y, style: .bold, size: 13, gray: 0.1)
        y -= 6
        pdf.rule(x1: left, y1: y, x2: right, y2: y, width: 0.8, gray: 0.3)
        y -= 14
    }

    func wrap(_ s: String, width: Double, style: PDFDocumentWriter.Style, size: Double) -> [String] {
        var lines: [String] = []
        for para in s.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in para.split(separator: " ") {
                let cand = line.isEmpty ? String(word) : line + " " + word
                if pdf.width(cand, style, size) <= width { line = cand; continue }
                if !line.isEmpty { lines.append(line) }
                // A word wider than the column (hashes, paths) is cut.
                var w = String(word)
                while pdf.width(w, style, size) > width {
                    var cut = w.count
                    while cut > 1 && pdf.width(String(w.prefix(cut)), style, size) > width { cut -= 1 }
                    lines.append(String(w.prefix(cut))); w = String(w.dropFirst(cut))
                }
                line = w
            }
            lines.append(line)
        }
        return lines
    }

    mutating func paragraph(_ s: String, size: Double = 9.5, gray: Double = 0.1) {
        for line in wrap(s, width: right - left, style: .regular, size: size) {
            ensure(size * 1.4)
            pdf.text(line, x: left, y: y, size: size, gray: gray); y -= size * 1.4
        }
        y -= 4
    }

    mutating func keyValues(_ kv: [(String, String)]) {
        for (k, v) in kv {
            let lines = wrap(v, width: right - left - 130, style: .regular, size: 9.5)
            ensure(Double(lines.count) * 13 + 2)
            pdf.text(k, x: left, y: y, style: .bold, size: 9.5, gray: 0.25)
            for l in lines { pdf.text(l, x: left + 130, y: y, size: 9.5); y -= 13 }
            y -= 2
        }
        y -= 6
    }

    mutating func callout(_ title: String, _ body: String, warn: Bool = false) {
        let lines = wrap(body, width: right - left - 16, style: .regular, size: 8.5)
        let h = 18 + Double(lines.count) * 11.5
        ensure(h + 6)
        if warn { pdf.fillRGB(x: left, y: y - h + 10, w: right - left, h: h, r: 1.0, g: 0.96, b: 0.88) }
        else { pdf.fillRGB(x: left, y: y - h + 10, w: right - left, h: h, r: 0.92, g: 0.95, b: 0.99) }
        pdf.text(title, x: left + 8, y: y - 2, style: .bold, size: 9.5, gray: 0.1)
        y -= 15
        for l in lines { pdf.text(l, x: left + 8, y: y - 2, size: 8.5, gray: 0.15); y -= 11.5 }
        y -= 14
    }

    mutating func table(_ columns: [(title: String, width: Double, style: PDFDocumentWriter.Style)], _ rows: [[String]], size: Double = 8.5) {
        let lineH = size * 1.35
        func header(_ l: inout PageLayout) {
            l.ensure(lineH * 3)
            l.pdf.fill(x: l.left, y: l.y - 4, w: l.right - l.left, h: lineH + 4, gray: 0.88)
            var x = l.left + 3
            for c in columns { l.pdf.text(c.title, x: x, y: l.y, style: .bold, size: size, gray: 0.15); x += c.width }
            l.y -= lineH + 4
        }
        header(&self)
        for (ri, row) in rows.enumerated() {
            let cells = columns.enumerated().map { i, c in wrap(i < row.count ? row[i] : "", width: c.width - 6, style: c.style, size: size) }
            let h = Double(cells.map(\.count).max() ?? 1) * lineH + 3
            if y - h < bottom { startPage(); header(&self) }
            if ri % 2 == 1 { pdf.fill(x: left, y: y - h + lineH - 1, w: right - left, h: h, gray: 0.965) }
            var x = left + 3
            for (i, c) in columns.enumerated() {
                var ly = y
                for l in cells[i] { pdf.text(l, x: x, y: ly, style: c.style, size: size, gray: 0.1); ly -= lineH }
                x += c.width
            }
            y -= h
        }
        y -= 8
    }

    mutating func finish() { pdf.finishPage() }
}
