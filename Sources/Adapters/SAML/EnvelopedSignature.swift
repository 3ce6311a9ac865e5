import CLibXML2
import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// The one XML-DSig shape SAML uses: an enveloped signature, exclusive C14N, SHA-256 digest,
/// RSA-SHA256 or ECDSA-SHA256, one Reference naming the parent element by its `ID`.
///
/// Guarantees: `verify` returns only when (1) the signature is a child of `signed`, (2) its one
/// Reference URI is `#` + the `ID` of `signed` and exactly one element of the document carries
/// that ID, (3) the digest of `signed` without this signature matches, and (4) the SignedInfo
/// verifies with one of `keys`. Whatever the caller then reads from `signed` is what was signed.
/// Refuses: any other algorithm, transform or reference form (XPath, external URIs, several
/// references), certificates carried in KeyInfo (keys come from metadata only).
enum EnvelopedSignature {
    static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    static let enveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

    /// The key that verified, for the record.
    struct Verified {
        let certificateSHA256: String
        let algorithm: X509SignatureKey.Algorithm
    }

    /// The `ds:Signature` children of `element` (zero or one is legal; more is refused by the caller).
    static func signatures(of element: XMLElementRef) -> [XMLElementRef] {
        element.children(SAMLNamespace.xmlDSig, "Signature")
    }

    static func verify(_ signature: XMLElementRef, of signed: XMLElementRef, in document: SafeXMLDocument,
                       keys: [X509SignatureKey], what: String) throws(SAMLError) -> Verified {
        guard signature.parent == signed else {
            throw SAMLError(.signatureWrapping, "the signature of the \(what) is not enveloped in it")
        }
        let parts = signature.children
        guard parts.count >= 2, parts[0].is(SAMLNamespace.xmlDSig, "SignedInfo"), parts[1].is(SAMLNamespace.xmlDSig, "SignatureValue") else {
            throw SAMLError(.badSignature, "the signature of the \(what) does not start with SignedInfo and SignatureValue")
        }
        let signedInfo = parts[0]
        let info = signedInfo.children
        guard info.count == 3, info[0].is(SAMLNamespace.xmlDSig, "CanonicalizationMethod"),
              info[1].is(SAMLNamespace.xmlDSig, "SignatureMethod"), info[2].is(SAMLNamespace.xmlDSig, "Reference") else {
            throw SAMLError(.badSignature, "the SignedInfo of the \(what) must hold CanonicalizationMethod, SignatureMethod and exactly one Reference")
        }
        // SignedInfo canonicalization.
        guard info[0].attribute("Algorithm") == SAMLNamespace.exclusiveC14N else {
            throw SAMLError(.badSignature, "the \(what) signature canonicalizes SignedInfo with '\(info[0].attribute("Algorithm") ?? "")'; only exclusive C14N without comments (\(SAMLNamespace.exclusiveC14N)) is accepted")
        }
        let signedInfoPrefixes = try inclusivePrefixes(of: info[0], what: what)
        // Signature algorithm.
        let algorithm: X509SignatureKey.Algorithm
        switch info[1].attribute("Algorithm") {
        case rsaSHA256: algorithm = .rsaPKCS1SHA256
        case ecdsaSHA256: algorithm = .ecdsaP256SHA256
        case let other:
            throw SAMLError(.badSignature, "the \(what) is signed with '\(other ?? "")'; only RSA-SHA256 and ECDSA-SHA256 are accepted (configure the IdP for SHA-256)")
        }
        guard info[1].children.isEmpty else { throw SAMLError(.badSignature, "the SignatureMethod of the \(what) has parameters; none are accepted") }
        // The reference must name exactly `signed`.
        let reference = info[2]
        guard let id = signed.attribute("ID"), !id.isEmpty else {
            throw SAMLError(.malformed, "the signed \(what) has no ID attribute")
        }
        guard reference.attribute("URI") == "#" + id else {
            throw SAMLError(.signatureWrapping, "the signature in the \(what) references '\(reference.attribute("URI") ?? "")', not the \(what) itself ('#\(id)')")
        }
        guard let holders = document.elementsByID[id], holders.count == 1, holders[0] == signed else {
            throw SAMLError(.signatureWrapping, "ID '\(id)' is carried by \(document.elementsByID[id]?.count ?? 0) elements; a signed ID must be unique")
        }
        let refParts = reference.children
        guard refParts.count == 3, refParts[0].is(SAMLNamespace.xmlDSig, "Transforms"),
              refParts[1].is(SAMLNamespace.xmlDSig, "DigestMethod"), refParts[2].is(SAMLNamespace.xmlDSig, "DigestValue") else {
            throw SAMLError(.badSignature, "the Reference in the \(what) signature must hold Transforms, DigestMethod and DigestValue")
        }
        let transforms = refParts[0].children
        guard transforms.count == 2, transforms.allSatisfy({ $0.is(SAMLNamespace.xmlDSig, "Transform") }),
              transforms[0].attribute("Algorithm") == enveloped, transforms[0].children.isEmpty,
              transforms[1].attribute("Algorithm") == SAMLNamespace.exclusiveC14N else {
            let list = transforms.map { $0.attribute("Algorithm") ?? "?" }.joined(separator: ", ")
            throw SAMLError(.badSignature, "the \(what) signature uses the transforms [\(list)]; only [enveloped-signature, exclusive C14N] is accepted")
        }
        let referencePrefixes = try inclusivePrefixes(of: transforms[1], what: what)
        guard refParts[1].attribute("Algorithm") == sha256 else {
            throw SAMLError(.badSignature, "the \(what) digest is '\(refParts[1].attribute("Algorithm") ?? "")'; only SHA-256 is accepted")
        }
        guard let expected = Base64.decode(refParts[2].text.removingXMLWhitespace()), expected.count == 32 else {
            throw SAMLError(.badSignature, "the DigestValue of the \(what) signature is not a base64 SHA-256 digest")
        }
        // Digest of the referenced element without this signature.
        let canonical = try canonicalize(signed, excluding: signature, prefixes: referencePrefixes, in: document, what: what)
        guard OpenSSLSHA256().hash(bytes: canonical).bytes == expected else {
            throw SAMLError(.badSignature, "the \(what) was changed after it was signed (SHA-256 digest does not match)")
        }
        // Signature over SignedInfo.
        guard var value = Base64.decode(parts[1].text.removingXMLWhitespace()) else {
            throw SAMLError(.badSignature, "the SignatureValue of the \(what) is not base64")
        }
        if algorithm == .ecdsaP256SHA256 {
            guard let der = derECDSASignature(raw: value) else {
                throw SAMLError(.badSignature, "the ECDSA SignatureValue of the \(what) is \(value.count) bytes; XML-DSig P-256 signatures are 64 bytes (r || s)")
            }
            value = der
        }
        let signedBytes = try canonicalize(signedInfo, excluding: nil, prefixes: signedInfoPrefixes, in: document, what: what)
        guard !keys.isEmpty else { throw SAMLError(.configuration, "no IdP signing certificate is configured") }
        for key in keys where key.isValidSignature(value, for: signedBytes, algorithm: algorithm) {
            return Verified(certificateSHA256: key.fingerprintSHA256, algorithm: algorithm)
        }
        throw SAMLError(.badSignature, "the \(what) signature (\(algorithm)) does not verify with any of the \(keys.count) signing certificate(s) in the IdP metadata (SHA-256 \(keys.map { String($0.fingerprintSHA256.prefix(16)) }.joined(separator: ", "))); update the metadata if the IdP rolled its key")
    }

    /// The `InclusiveNamespaces PrefixList` of an exclusive C14N method or transform, bounded.
    static func inclusivePrefixes(of method: XMLElementRef, what: String) throws(SAMLError) -> [String] {
        let children = method.children
        guard !children.isEmpty else { return [] }
        guard children.count == 1, children[0].is(SAMLNamespace.exclusiveC14N, "InclusiveNamespaces") else {
            throw SAMLError(.badSignature, "the exclusive C14N of the \(what) signature has unexpected parameters")
        }
        let list = (children[0].attribute("PrefixList") ?? "").split(whereSeparator: { " \t\r\n".contains($0) }).map(String.init)
        guard list.count <= 32, list.allSatisfy({ $0.utf8.count <= 64 }) else {
            throw SAMLError(.badSignature, "the InclusiveNamespaces PrefixList of the \(what) signature is too long")
        }
        return list
    }

    /// Exclusive C14N 1.0 (no comments) of `element`'s subtree, minus `excluding`'s subtree
    /// (the enveloped-signature transform), through libxml2's `xmlC14NDocDumpMemory`.
    ///
    /// The node set is selected relative to `element` as XPath context node, and the excluded
    /// signature is bound as a variable, so no value from the document enters the expression.
    static func canonicalize(_ element: XMLElementRef, excluding: XMLElementRef?, prefixes: [String],
                             in document: SafeXMLDocument, what: String) throws(SAMLError) -> [UInt8] {
        guard let context = xmlXPathNewContext(document.doc) else { throw SAMLError(.malformed, "out of memory for C14N") }
        defer { xmlXPathFreeContext(context) }
        context.pointee.node = element.node
        var expression = "(descendant-or-self::node() | descendant-or-self::node()/@* | descendant-or-self::node()/namespace::*)"
        if let excluding {
            // The context owns the variable's value from here on and frees it with itself.
            guard let value = xmlXPathNewNodeSet(excluding.node), xmlXPathRegisterVariable(context, "enveloped", value) == 0 else {
                throw SAMLError(.malformed, "cannot prepare the enveloped-signature transform")
            }
            expression += "[not(ancestor-or-self::node()[count(. | $enveloped) = 1])]"
        }
        guard let selected = xmlXPathEvalExpression(expression, context) else {
            throw SAMLError(.malformed, "cannot select the signed nodes of the \(what)")
        }
        defer { xmlXPathFreeObject(selected) }
        let cPrefixes: [UnsafeMutablePointer<xmlChar>?] = prefixes.map {
            UnsafeMutableRawPointer(strdup($0)!).assumingMemoryBound(to: xmlChar.self)
        } + [nil]
        defer { cPrefixes.forEach { free($0) } }
        var out: UnsafeMutablePointer<xmlChar>?
        let length = cPrefixes.withUnsafeBufferPointer { list in
            xmlC14NDocDumpMemory(document.doc, selected.pointee.nodesetval, Int32(XML_C14N_EXCLUSIVE_1_0.rawValue),
                                 prefixes.isEmpty ? nil : UnsafeMutablePointer(mutating: list.baseAddress), 0, &out)
        }
        guard length >= 0, let out else { throw SAMLError(.malformed, "exclusive C14N of the \(what) failed") }
        defer { shim_xmlFree(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// XML-DSig 1.1 carries ECDSA signatures as r || s, each 32 bytes for P-256; libcrypto
    /// verifies the DER `Ecdsa-Sig-Value` (SEQUENCE of two INTEGERs).
    static func derECDSASignature(raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64 else { return nil }
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var v = Array(bytes.drop { $0 == 0 })
            if v.isEmpty { v = [0] }
            if v[0] & 0x80 != 0 { v.insert(0, at: 0) }
            return [0x02, UInt8(v.count)] + v
        }
        let body = integer(raw[0..<32]) + integer(raw[32..<64])
        return [0x30, UInt8(body.count)] + body
    }
}
