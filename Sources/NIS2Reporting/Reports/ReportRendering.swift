import EvidenceCore
import Foundation

/// The formats a draft is rendered in.
public enum ReportFormat: String, Sendable, CaseIterable {
    case json, md, html
}

extension ReportDraft {
    /// Items in the order of `ReportItemKey.allCases`.
    var orderedItems: [(ReportItemKey, ReportValue)] { ReportItemKey.allCases.compactMap { k in items[k].map { (k, $0) } } }

    public func render(_ format: ReportFormat, language: ReportLanguage = .en) -> String {
        switch format {
        case .json: return json.text(pretty: true)
        case .md: return markdown(language)
        case .html: return html(language)
        }
    }

    /// The neutral model as JSON; keys are the `ReportItemKey` names, timestamps UTC.
    public var json: OrderedJSON {
        func value(_ v: ReportValue) -> OrderedJSON {
            switch v {
            case .text(let s): .string(s)
            case .flag(let b): .bool(b)
            case .time(let d): .timestamp(d)
            case .list(let l): .array(l.map { .string($0) })
            }
        }
        var o: [(String, OrderedJSON)] = [
            ("stage", .string(stage.rawValue)), ("incident", .string(incidentID)), ("tenant", .string(tenant.rawValue)),
            ("title", .string(title)), ("generatedAt", .timestamp(generatedAt)), ("complete", .bool(isComplete)),
            ("missing", .array(missing.map { .string($0.rawValue) })),
            ("notYetKnown", .array(optionalMissing.map { .string($0.rawValue) })),
            ("items", .object(orderedItems.map { ($0.0.rawValue, value($0.1)) })),
            ("deadlines", .array(deadlines.map { .object([("kind", .string($0.kind.rawValue)), ("due", .timestamp($0.due)), ("basis", .string($0.basis))]) })),
        ]
        if let stixBundle { o.append(("stix", stixBundle)) }
        return .object(o)
    }

    private func text(_ v: ReportValue, _ l: ReportLanguage) -> [String] {
        switch v {
        case .text(let s): [s]
        case .flag(let b): [b ? l.yes : l.no]
        case .time(let d): [Timestamp.format(d)]
        case .list(let items): items
        }
    }

    func markdown(_ l: ReportLanguage) -> String {
        var out = "# \(l.stageName(stage))\n\n"
        out += "**\(l.incident):** \(md(incidentID)) — \(md(title))  \n**\(l.tenant):** \(tenant.rawValue)  \n**\(l.generated):** \(Timestamp.format(generatedAt))\n\n"
        out += "> \(l.draftNotice)\n\n"
        if !missing.isEmpty {
            out += "## \(l.missingHeading)\n\n" + missing.map { "- [ ] \(l.label($0))\n" }.joined() + "\n"
        }
        for (k, v) in orderedItems where k != .timeline {
            let lines = text(v, l)
            if case .list = v {
                out += "## \(l.label(k))\n\n" + lines.map { "- \(md($0))\n" }.joined() + "\n"
            } else {
                out += "**\(l.label(k)):** \(md(lines.first ?? ""))\n\n"
            }
        }
        if !deadlines.isEmpty {
            out += "## \(l.deadlines)\n\n| | UTC | |\n|---|---|---|\n"
            out += deadlines.map { "| \(l.deadlineName($0.kind)) | \(Timestamp.format($0.due)) | \(md($0.basis)) |\n" }.joined() + "\n"
        }
        if !timeline.isEmpty {
            out += "## \(l.label(.timeline))\n\n" + timeline.map { "- \(Timestamp.format($0.time)) — \(md($0.summary))\n" }.joined() + "\n"
        }
        if !optionalMissing.isEmpty {
            out += "## \(l.optionalHeading)\n\n" + optionalMissing.map { "- \(l.label($0))\n" }.joined() + "\n"
        }
        if let stixBundle { out += "## STIX 2.1\n\n```json\n\(stixBundle.text(pretty: true))\n```\n" }
        return out
    }

    func html(_ l: ReportLanguage) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"\(l.rawValue)\">\n<head><meta charset=\"utf-8\"><title>\(h(l.stageName(stage))) — \(h(incidentID))</title></head>\n<body>\n"
        out += "<h1>\(h(l.stageName(stage)))</h1>\n"
        out += "<p><strong>\(h(l.incident)):</strong> \(h(incidentID)) — \(h(title))<br><strong>\(h(l.tenant)):</strong> \(h(tenant.rawValue))<br><strong>\(h(l.generated)):</strong> \(Timestamp.format(generatedAt))</p>\n"
        out += "<p><em>\(h(l.draftNotice))</em></p>\n"
        if !missing.isEmpty {
            out += "<h2>\(h(l.missingHeading))</h2>\n<ul class=\"missing\">\n" + missing.map { "<li>\(h(l.label($0)))</li>\n" }.joined() + "</ul>\n"
        }
        out += "<table>\n"
        for (k, v) in orderedItems where k != .timeline {
            let lines = text(v, l)
            let cell = lines.count == 1 && { if case .list = v { return false }; return true }() ? h(lines[0]) : "<ul>" + lines.map { "<li>\(h($0))</li>" }.joined() + "</ul>"
            out += "<tr><th>\(h(l.label(k)))</th><td>\(cell)</td></tr>\n"
        }
        out += "</table>\n"
        if !deadlines.isEmpty {
            out += "<h2>\(h(l.deadlines))</h2>\n<table>\n" + deadlines.map { "<tr><td>\(h(l.deadlineName($0.kind)))</td><td>\(Timestamp.format($0.due))</td><td>\(h($0.basis))</td></tr>\n" }.joined() + "</table>\n"
        }
        if !timeline.isEmpty {
            out += "<h2>\(h(l.label(.timeline)))</h2>\n<ol>\n" + timeline.map { "<li>\(Timestamp.format($0.time)) — \(h($0.summary))</li>\n" }.joined() + "</ol>\n"
        }
        if !optionalMissing.isEmpty {
            out += "<h2>\(h(l.optionalHeading))</h2>\n<ul>\n" + optionalMissing.map { "<li>\(h(l.label($0)))</li>\n" }.joined() + "</ul>\n"
        }
        if let stixBundle { out += "<h2>STIX 2.1</h2>\n<pre>\(h(stixBundle.text(pretty: true)))</pre>\n" }
        return out + "</body>\n</html>\n"
    }

    private func h(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"; case "<": o += "&lt;"; case ">": o += "&gt;"; case "\"": o += "&quot;"; case "'": o += "&#39;"
            default: o.append(c)
            }
        }
        return o
    }

    /// Markdown-safe inline text: no line breaks, and characters that would start markup escaped.
    private func md(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "\n", "\r": o += " "
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#": o += "\\" + String(c)
            default: o.append(c)
            }
        }
        return o
    }
}
