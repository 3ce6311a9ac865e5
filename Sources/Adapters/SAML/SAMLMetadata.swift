import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// What the service provider trusts about its IdP: the entity id and every signing
/// certificate, read from the IdP's SAML metadata.
///
/// Guarantees: `signingKeys` holds every `KeyDescriptor` with `use="signing"` (or no `use`)
/// of the `IDPSSODescriptor`, so an IdP that publishes its next certificate ahead of a key
/// rollover keeps working across the switch. The metadata file is trusted as configured by
/// the operator: its own signature and `validUntil` are not checked here.
/// Refuses: metadata without an IDPSSODescriptor, without a signing certificate, with more
/// than 16 of them, or with a certificate that `X509SignatureKey` refuses.
public struct SAMLIdentityProviderMetadata: Sendable {
    public let entityID: String
    public let signingKeys: [X509SignatureKey]
    /// SingleSignOnService endpoints, as (binding, location).
    public let singleSignOnServices: [SAMLEndpoint]

    public init(entityID: String, signingCertificatesDER: [[UInt8]], singleSignOnServices: [SAMLEndpoint] = []) throws(SAMLError) {
        guard !entityID.isEmpty else { throw SAMLError(.configuration, "the IdP entity id is empty") }
        guard (1...16).contains(signingCertificatesDER.count) else {
            throw SAMLError(.configuration, "the IdP metadata for '\(entityID)' must list 1 to 16 signing certificates, not \(signingCertificatesDER.count)")
        }
        var keys: [X509SignatureKey] = []
        for (i, der) in signingCertificatesDER.enumerated() {
            do { keys.append(try X509SignatureKey(certificateDER: der)) } catch {
                throw SAMLError(.configuration, "signing certificate \(i + 1) of IdP '\(entityID)' cannot be used: \(error)")
            }
        }
        self.entityID = entityID
        self.signingKeys = keys
        self.singleSignOnServices = singleSignOnServices
    }

    /// Parses an `EntityDescriptor` holding an `IDPSSODescriptor` (the IdP's `/metadata` URL).
    public init(xml: [UInt8], limits: SAMLParseLimits = SAMLParseLimits(maxBytes: 1 << 20)) throws(SAMLError) {
        let document = try SafeXMLDocument(bytes: xml, limits: limits, what: "IdP metadata")
        let root = document.root
        guard root.is(SAMLNamespace.metadata, "EntityDescriptor") else {
            throw SAMLError(.configuration, "the IdP metadata's root is '\(root.localName)'; expected an md:EntityDescriptor (a single IdP's metadata, not an aggregate)")
        }
        guard let entityID = root.attribute("entityID"), !entityID.isEmpty else {
            throw SAMLError(.configuration, "the IdP metadata has no entityID")
        }
        guard let idp = root.child(SAMLNamespace.metadata, "IDPSSODescriptor") else {
            throw SAMLError(.configuration, "the metadata of '\(entityID)' has no IDPSSODescriptor; is it an SP's metadata?")
        }
        var certificates: [[UInt8]] = []
        for descriptor in idp.children(SAMLNamespace.metadata, "KeyDescriptor") {
            let use = descriptor.attribute("use")
            guard use == nil || use == "signing" else { continue }
            for cert in descriptor.descendants(SAMLNamespace.xmlDSig, "X509Certificate") {
                guard let der = Base64.decode(cert.text.removingXMLWhitespace()) else {
                    throw SAMLError(.configuration, "an X509Certificate in the metadata of '\(entityID)' is not base64")
                }
                certificates.append(der)
            }
        }
        let sso = idp.children(SAMLNamespace.metadata, "SingleSignOnService").compactMap { e -> SAMLEndpoint? in
            guard let b = e.attribute("Binding"), let l = e.attribute("Location") else { return nil }
            return SAMLEndpoint(binding: b, location: l)
        }
        try self.init(entityID: entityID, signingCertificatesDER: certificates, singleSignOnServices: sso)
    }
}

/// A SAML endpoint: its binding URI and location URL.
public struct SAMLEndpoint: Hashable, Sendable {
    public var binding: String
    public var location: String
    public init(binding: String, location: String) { self.binding = binding; self.location = location }

    public static let httpPOST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    public static let httpRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
}

/// The SP metadata an IdP administrator imports: entity id, the HTTP-POST ACS, the wish for
/// signed assertions and the accepted NameID formats.
///
/// Guarantees: attribute values and text are XML-escaped; the output is a well-formed
/// `md:EntityDescriptor` that `SAMLIdentityProviderMetadata`'s parser (and pysaml2) reads.
public struct SAMLServiceProviderMetadata: Hashable, Sendable {
    public var entityID: String
    public var assertionConsumerServiceURL: String
    public var wantAssertionsSigned: Bool
    public var nameIDFormats: [String]

    public init(entityID: String, assertionConsumerServiceURL: String, wantAssertionsSigned: Bool = true,
                nameIDFormats: [String] = ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                                           "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"]) {
        self.entityID = entityID
        self.assertionConsumerServiceURL = assertionConsumerServiceURL
        self.wantAssertionsSigned = wantAssertionsSigned
        self.nameIDFormats = nameIDFormats
    }

    public init(_ configuration: SAMLServiceProviderConfiguration) {
        self.init(entityID: configuration.entityID, assertionConsumerServiceURL: configuration.assertionConsumerServiceURL,
                  wantAssertionsSigned: configuration.signatureRequirement.requiresAssertionSignature)
    }

    public var xml: String {
        let formats = nameIDFormats.map { "    <md:NameIDFormat>\(Self.escape($0))</md:NameIDFormat>\n" }.joined()
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="\(Self.escape(entityID))">
          <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="\(wantAssertionsSigned)" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        \(formats)    <md:AssertionConsumerService Binding="\(SAMLEndpoint.httpPOST)" Location="\(Self.escape(assertionConsumerServiceURL))" index="0" isDefault="true"/>
          </md:SPSSODescriptor>
        </md:EntityDescriptor>

        """
    }

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
