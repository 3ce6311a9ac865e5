import EvidenceCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of an S3 XML response: its local name, its text, its child elements.
/// S3 responses are untrusted input, so `S3XML.parse` bounds the size, depth and count.
struct XMLElementNode: Sendable {
    var name: String
    var text: String
    var children: [XMLElementNode]

    /// The first child with this local name.
    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
    /// Text of the first child with this name, trimmed.
    func value(_ name: String) -> String? { child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Bounded parsing of S3 XML documents with FoundationXML's SAX parser (no external entities,
/// no DTD processing).
///
/// Refuses: documents larger than `maxBytes`, nested deeper than 16, with more than
/// `maxElements` elements, or text longer than 64 KiB in one element; any malformed XML.
enum S3XML {
    static let maxDepth = 16
    static let maxTextBytes = 64 * 1024

    static func parse(_ data: [UInt8], maxBytes: Int = 4 << 20, maxElements: Int = 200_000, what: String) throws -> XMLElementNode {
        guard data.count <= maxBytes else {
            throw EvidenceError(.malformedInput, "S3 \(what) response is \(data.count) bytes, above the \(maxBytes)-byte bound; refusing to parse it")
        }
        // Refuse DTDs outright: S3 never sends one, and they are where entity expansion lives.
        if data.count >= 9, data.firstRange(of: Array("<!DOCTYPE".utf8)) != nil {
            throw EvidenceError(.malformedInput, "S3 \(what) response contains a DTD; S3 never sends one, so it is refused")
        }
        let builder = TreeBuilder(maxElements: maxElements)
        let parser = XMLParser(data: Data(data))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = builder.failure {
            throw EvidenceError(.malformedInput, "S3 \(what) response refused: \(failure)")
        }
        guard ok, let root = builder.root else {
            let reason = parser.parserError.map { "\($0)" } ?? "no root element"
            throw EvidenceError(.malformedInput, "S3 \(what) response is not well-formed XML (\(reason)); the endpoint may not be an S3 service")
        }
        return root
    }

    /// Escapes text for an XML element body.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// SAX delegate that builds the tree and stops at the first broken bound.
/// Used on one thread, inside one `parse` call; never shared.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    let maxElements: Int
    var stack: [XMLElementNode] = []
    var root: XMLElementNode?
    var count = 0
    var failure: String?

    init(maxElements: Int) { self.maxElements = maxElements }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        count += 1
        if count > maxElements { fail(parser, "more than \(maxElements) elements"); return }
        if stack.count >= S3XML.maxDepth { fail(parser, "nested deeper than \(S3XML.maxDepth)"); return }
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLElementNode(name: local, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        if stack[stack.count - 1].text.utf8.count + string.utf8.count > S3XML.maxTextBytes {
            fail(parser, "an element holds more than \(S3XML.maxTextBytes) bytes of text"); return
        }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard let done = stack.popLast() else { return }
        if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
    }

    func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
        fail(parser, "external entity declaration '\(name)'")
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        fail(parser, "entity declaration '\(name)'")
    }

    private func fail(_ parser: XMLParser, _ why: String) {
        if failure == nil { failure = why }
        parser.abortParsing()
    }
}
