/// Text edits on pysaml2's output (prefixes ns0 = protocol, ns1 = assertion, ns2 = xmldsig),
/// the way an attacker edits a captured response: the signed bytes stay as they were.
enum XMLSurgery {
    static func range(of open: String, close: String, in xml: String, after start: String.Index? = nil) -> Range<String.Index>? {
        guard let a = xml.range(of: open, range: (start ?? xml.startIndex)..<xml.endIndex),
              let b = xml.range(of: close, range: a.upperBound..<xml.endIndex) else { return nil }
        return a.lowerBound..<b.upperBound
    }

    /// The whole `<ns1:Assertion ...>...</ns1:Assertion>` element.
    static func assertion(in xml: String) -> Range<String.Index>? { range(of: "<ns1:Assertion ", close: "</ns1:Assertion>", in: xml) }

    /// The Response's own `<ns2:Signature>` (the first one, before the Assertion).
    static func responseSignature(in xml: String) -> Range<String.Index>? {
        guard let sig = range(of: "<ns2:Signature", close: "</ns2:Signature>", in: xml),
              let assertion = assertion(in: xml), sig.upperBound <= assertion.lowerBound else { return nil }
        return sig
    }

    /// The Assertion's `<ns2:Signature>`.
    static func assertionSignature(in xml: String) -> Range<String.Index>? {
        guard let assertion = assertion(in: xml) else { return nil }
        return range(of: "<ns2:Signature", close: "</ns2:Signature>", in: xml, after: assertion.lowerBound)
    }

    static func replacing(_ xml: String, _ target: String, with replacement: String) -> String {
        precondition(xml.contains(target), "fixture does not contain \(target)")
        return xml.replacingOccurrences(of: target, with: replacement)
    }

    /// An attacker's assertion: the signed one with another subject and ID, its signature dropped.
    static func evilAssertion(from xml: String, id: String = "id-evil") -> String {
        var a = String(xml[assertion(in: xml)!])
        if let sig = range(of: "<ns2:Signature", close: "</ns2:Signature>", in: a) { a.removeSubrange(sig) }
        a = a.replacingOccurrences(of: "alice@msp.example", with: "mallory@evil.example")
        if let idRange = a.range(of: #"ID="[^"]*""#, options: .regularExpression) { a.replaceSubrange(idRange, with: #"ID="\#(id)""#) }
        return a
    }
}
