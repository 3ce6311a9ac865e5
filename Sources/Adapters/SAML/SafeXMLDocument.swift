import CLibXML2
import EvidenceCore
import Foundation

/// Namespaces the service provider reads.
enum SAMLNamespace {
    static let samlProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"
    static let assertion = "urn:oasis:names:tc:SAML:2.0:assertion"
    static let metadata = "urn:oasis:names:tc:SAML:2.0:metadata"
    static let xmlDSig = "http://www.w3.org/2000/09/xmldsig#"
    static let exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
}

/// Bounds applied to untrusted XML before and after parsing.
///
/// Guarantees: a document larger than `maxBytes`, with more than `maxNodes` nodes or nested
/// deeper than `maxDepth` is refused before any of its content is interpreted.
public struct SAMLParseLimits: Hashable, Sendable {
    /// Largest XML document accepted (after base64 decoding). Real responses are 5-30 KiB.
    public var maxBytes: Int
    /// Largest number of nodes (elements, attributes, text) in the parsed tree.
    public var maxNodes: Int
    /// Deepest element nesting; SAML responses nest about 8 levels.
    public var maxDepth: Int

    public init(maxBytes: Int = 256 << 10, maxNodes: Int = 20_000, maxDepth: Int = 48) {
        self.maxBytes = maxBytes; self.maxNodes = maxNodes; self.maxDepth = maxDepth
    }
}

/// A libxml2 document parsed from untrusted bytes with DTDs, entities and network access off.
///
/// Refuses: any DOCTYPE (so no external entity and no entity expansion can happen), documents
/// that are not UTF-8, that break a `SAMLParseLimits` bound, or that are not well-formed.
/// Not `Sendable`: a document lives inside one synchronous verification and is freed with it.
final class SafeXMLDocument {
    let doc: xmlDocPtr
    /// Every element carrying an unqualified `ID` attribute, by value (SAML's only ID attribute).
    private(set) var elementsByID: [String: [XMLElementRef]] = [:]

    private static let parserReady: Void = { xmlInitParser() }()

    init(bytes: [UInt8], limits: SAMLParseLimits, what: String) throws(SAMLError) {
        _ = Self.parserReady
        guard !bytes.isEmpty else { throw SAMLError(.malformed, "the \(what) is empty") }
        guard bytes.count <= limits.maxBytes else {
            throw SAMLError(.tooLarge, "the \(what) is \(bytes.count) bytes; at most \(limits.maxBytes) are accepted (raise SAMLParseLimits.maxBytes only if a genuine IdP needs it)")
        }
        // UTF-16/32 or EBCDIC input could hide a DOCTYPE from the byte scan below: refuse it.
        guard let first = bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }),
              first == UInt8(ascii: "<") || (bytes.starts(with: [0xef, 0xbb, 0xbf]) && bytes.count > 3 && bytes[3] == UInt8(ascii: "<")) else {
            throw SAMLError(.malformed, "the \(what) is not UTF-8 XML starting with '<'")
        }
        if Self.contains(bytes, "<!DOCTYPE") || Self.contains(bytes, "<!ENTITY") {
            throw SAMLError(.doctypeForbidden, "the \(what) carries a DOCTYPE or entity declaration; SAML messages never need one and it is refused (XXE and entity-expansion protection)")
        }
        // NONET: no network. No NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR, no HUGE,
        // no NOBLANKS (whitespace is part of what was signed). Encoding forced to UTF-8.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                xmlReadMemory($0, Int32(buf.count), "saml.xml", "UTF-8", options)
            }
        }
        guard let parsed else {
            let reason = xmlGetLastError().map { e in
                String(decoding: Array(UnsafeBufferPointer(start: e.pointee.message, count: e.pointee.message.map { strlen($0) } ?? 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    .trimmingXMLWhitespace()
            } ?? "unknown parser error"
            xmlResetLastError()
            throw SAMLError(.malformed, "the \(what) is not well-formed XML: \(reason)")
        }
        doc = parsed
        guard parsed.pointee.intSubset == nil, parsed.pointee.extSubset == nil else {
            throw SAMLError(.doctypeForbidden, "the \(what) carries a DOCTYPE; it is refused (XXE and entity-expansion protection)")
        }
        guard xmlDocGetRootElement(parsed) != nil else { throw SAMLError(.malformed, "the \(what) has no root element") }
        try indexAndBound(limits: limits, what: what)
    }

    deinit { xmlFreeDoc(doc) }

    var root: XMLElementRef { XMLElementRef(xmlDocGetRootElement(doc)!) }

    /// Walks the tree once: counts nodes, bounds depth, refuses entity references, indexes IDs.
    private func indexAndBound(limits: SAMLParseLimits, what: String) throws(SAMLError) {
        var count = 0
        var stack: [(xmlNodePtr, Int)] = [(xmlDocGetRootElement(doc)!, 1)]
        while let (node, depth) = stack.popLast() {
            count += 1
            guard count <= limits.maxNodes else {
                throw SAMLError(.tooLarge, "the \(what) has more than \(limits.maxNodes) nodes")
            }
            guard depth <= limits.maxDepth else {
                throw SAMLError(.tooLarge, "the \(what) nests deeper than \(limits.maxDepth) levels")
            }
            switch node.pointee.type {
            case XML_ENTITY_REF_NODE, XML_ENTITY_NODE, XML_ENTITY_DECL, XML_DTD_NODE, XML_XINCLUDE_START:
                throw SAMLError(.doctypeForbidden, "the \(what) holds an entity reference; it is refused")
            case XML_ELEMENT_NODE:
                var attr = node.pointee.properties
                while let a = attr { count += 1; attr = a.pointee.next }
                let element = XMLElementRef(node)
                if let id = element.attribute("ID") { elementsByID[id, default: []].append(element) }
            default:
                break
            }
            var child = node.pointee.children
            while let c = child { stack.append((c, depth + 1)); child = c.pointee.next }
        }
    }

    private static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        var i = 0
        while i <= bytes.count - n.count {
            if bytes[i] == n[0], bytes[i..<i + n.count].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }
}

/// A pointer to an element inside a `SafeXMLDocument`; valid only while the document lives.
struct XMLElementRef: Equatable {
    let node: xmlNodePtr
    init(_ node: xmlNodePtr) { self.node = node }

    var localName: String { Self.string(node.pointee.name) ?? "" }
    var namespaceURI: String? { node.pointee.ns.flatMap { Self.string($0.pointee.href) } }
    func `is`(_ namespace: String, _ name: String) -> Bool { localName == name && namespaceURI == namespace }

    var parent: XMLElementRef? {
        guard let p = node.pointee.parent, p.pointee.type == XML_ELEMENT_NODE else { return nil }
        return XMLElementRef(p)
    }

    /// Element children in document order.
    var children: [XMLElementRef] {
        var out: [XMLElementRef] = []
        var c = node.pointee.children
        while let n = c {
            if n.pointee.type == XML_ELEMENT_NODE { out.append(XMLElementRef(n)) }
            c = n.pointee.next
        }
        return out
    }

    func children(_ namespace: String, _ name: String) -> [XMLElementRef] { children.filter { $0.is(namespace, name) } }
    func child(_ namespace: String, _ name: String) -> XMLElementRef? { children.first { $0.is(namespace, name) } }

    /// Every descendant element (not self) named `name` in `namespace`.
    func descendants(_ namespace: String, _ name: String) -> [XMLElementRef] {
        var out: [XMLElementRef] = []
        var stack = children.reversed() as [XMLElementRef]
        while let e = stack.popLast() {
            if e.is(namespace, name) { out.append(e) }
            stack.append(contentsOf: e.children.reversed())
        }
        return out
    }

    /// An attribute without namespace, as SAML and XML-DSig define theirs.
    func attribute(_ name: String) -> String? {
        guard let v = xmlGetNoNsProp(node, name) else { return nil }
        defer { shim_xmlFree(v) }
        return Self.string(v)
    }

    /// An attribute in a namespace (`xsi:type`).
    func attribute(_ name: String, namespace: String) -> String? {
        guard let v = xmlGetNsProp(node, name, namespace) else { return nil }
        defer { shim_xmlFree(v) }
        return Self.string(v)
    }

    /// All character data below this element, concatenated; comments and processing
    /// instructions are skipped, so `a<!---->b` reads as `ab` (never truncated at the comment).
    var text: String {
        guard let v = xmlNodeGetContent(node) else { return "" }
        defer { shim_xmlFree(v) }
        return Self.string(v) ?? ""
    }

    /// `text` with leading and trailing XML whitespace removed.
    var trimmedText: String { text.trimmingXMLWhitespace() }

    static func string(_ p: UnsafePointer<xmlChar>?) -> String? {
        guard let p else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: strlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))), as: UTF8.self)
    }
}

extension String {
    func trimmingXMLWhitespace() -> String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r", "\r\n"]
        var s = Substring(self)
        while let f = s.first, ws.contains(f) { s = s.dropFirst() }
        while let l = s.last, ws.contains(l) { s = s.dropLast() }
        return String(s)
    }

    /// The string with every XML whitespace character removed (base64 element content).
    func removingXMLWhitespace() -> String { String(filter { !" \t\n\r\r\n".contains($0) }) }
}
