import EvidenceCore
import Foundation

/// The checks of one SAML Response, in the order of SAML 2.0 Profiles §4.1.4 (Web SSO).
///
/// Structure first, then signatures, then content: the one assertion read is the direct
/// child of the Response, and it is accepted only if a signature verified over it (its own
/// enveloped signature, or the Response's signature around it). The document may hold no
/// other Assertion anywhere and no duplicated ID, which closes the wrapping variants
/// (moved, duplicated or nested assertions, signed copies hidden in Extensions or Object).
struct SAMLResponseCheck {
    let configuration: SAMLServiceProviderConfiguration
    let now: Date
    let requestID: String?

    private var skew: TimeInterval { configuration.clockSkew }
    private var idp: String { configuration.identityProvider.entityID }

    func verify(_ xml: [UInt8]) throws(SAMLError) -> SAMLVerifiedAssertion {
        let document = try SafeXMLDocument(bytes: xml, limits: configuration.limits, what: "SAML response")
        let response = document.root
        guard response.is(SAMLNamespace.samlProtocol, "Response") else {
            throw SAMLError(.malformed, "the document is a '\(response.localName)' in '\(response.namespaceURI ?? "no namespace")', not a samlp:Response")
        }
        guard response.attribute("Version") == "2.0" else { throw SAMLError(.malformed, "the Response is not SAML version 2.0") }
        if let duplicated = document.elementsByID.first(where: { $0.value.count > 1 }) {
            throw SAMLError(.signatureWrapping, "ID '\(duplicated.key)' appears on \(duplicated.value.count) elements; every ID must be unique (signature-wrapping attempt?)")
        }

        // Structure: exactly one plain assertion, as a direct child; nothing else that looks like one.
        if !response.descendants(SAMLNamespace.assertion, "EncryptedAssertion").isEmpty {
            throw SAMLError(.unsupported, "the response holds an EncryptedAssertion; this SP does not decrypt: configure the IdP to send plain signed assertions over HTTPS")
        }
        let everyAssertion = response.descendants(SAMLNamespace.assertion, "Assertion")
        let direct = response.children(SAMLNamespace.assertion, "Assertion")
        guard everyAssertion.count == 1, direct.count == 1, let assertion = direct.first, everyAssertion[0] == assertion else {
            throw SAMLError(.signatureWrapping, "the response holds \(everyAssertion.count) Assertion element(s), \(direct.count) of them directly in the Response; exactly one, directly in the Response, is accepted")
        }

        // Signatures. Each element may carry at most one; any other Signature anywhere is refused.
        let responseSignatures = EnvelopedSignature.signatures(of: response)
        let assertionSignatures = EnvelopedSignature.signatures(of: assertion)
        let allSignatures = response.descendants(SAMLNamespace.xmlDSig, "Signature")
        guard responseSignatures.count <= 1, assertionSignatures.count <= 1,
              allSignatures.count == responseSignatures.count + assertionSignatures.count else {
            throw SAMLError(.signatureWrapping, "the response holds \(allSignatures.count) Signature element(s); only one enveloped in the Response and one in the Assertion are accepted")
        }
        let keys = configuration.identityProvider.signingKeys
        var fingerprints: [String] = []
        if let signature = responseSignatures.first {
            fingerprints.append(try EnvelopedSignature.verify(signature, of: response, in: document, keys: keys, what: "Response").certificateSHA256)
        }
        if let signature = assertionSignatures.first {
            fingerprints.append(try EnvelopedSignature.verify(signature, of: assertion, in: document, keys: keys, what: "Assertion").certificateSHA256)
        }
        let responseSigned = !responseSignatures.isEmpty, assertionSigned = !assertionSignatures.isEmpty
        let requirement = configuration.signatureRequirement
        if requirement.requiresResponseSignature && !responseSigned {
            throw SAMLError(.unsigned, "the Response is not signed; this SP requires a signed Response (configure the IdP to sign responses)")
        }
        if requirement.requiresAssertionSignature && !assertionSigned {
            throw SAMLError(.unsigned, "the Assertion is not signed; this SP requires signed assertions (configure the IdP to sign assertions)")
        }
        guard responseSigned || assertionSigned else {
            throw SAMLError(.unsigned, "neither the Response nor the Assertion is signed; an unsigned assertion proves nothing")
        }

        // Response-level content (covered by the Response signature, or harmless if unsigned:
        // the decision below rests on the signed assertion).
        try checkStatus(response)
        if let destination = response.attribute("Destination"), destination != configuration.assertionConsumerServiceURL {
            throw SAMLError(.wrongRecipient, "the Response is addressed to '\(destination)', not this ACS '\(configuration.assertionConsumerServiceURL)'")
        }
        if let issuer = response.child(SAMLNamespace.assertion, "Issuer") { try checkIssuer(issuer, of: "Response") }
        let responseInResponseTo = response.attribute("InResponseTo")
        try checkInResponseTo(responseInResponseTo, of: "Response", required: false)
        if let instant = response.attribute("IssueInstant"), try time(instant, "Response IssueInstant") > now + skew {
            throw SAMLError(.notYetValid, "the Response was issued at \(instant), in the future (now \(Timestamp.format(now)), skew \(Int(skew)) s); check the IdP's clock")
        }

        return try readAssertion(assertion, responseSigned: responseSigned, assertionSigned: assertionSigned, fingerprints: fingerprints)
    }

    private func readAssertion(_ assertion: XMLElementRef, responseSigned: Bool, assertionSigned: Bool,
                               fingerprints: [String]) throws(SAMLError) -> SAMLVerifiedAssertion {
        guard assertion.attribute("Version") == "2.0", let id = assertion.attribute("ID"), !id.isEmpty else {
            throw SAMLError(.malformed, "the Assertion lacks Version 2.0 or an ID")
        }
        guard let issuer = assertion.child(SAMLNamespace.assertion, "Issuer") else {
            throw SAMLError(.malformed, "the Assertion has no Issuer")
        }
        try checkIssuer(issuer, of: "Assertion")

        // Conditions: time window, audience, nothing unknown.
        guard let conditions = assertion.child(SAMLNamespace.assertion, "Conditions") else {
            throw SAMLError(.malformed, "the Assertion has no Conditions; Web SSO needs an AudienceRestriction")
        }
        var validUntil = Date.distantPast
        if let v = conditions.attribute("NotBefore"), try time(v, "Conditions NotBefore") > now + skew {
            throw SAMLError(.notYetValid, "the assertion is valid only from \(v) (now \(Timestamp.format(now)), skew \(Int(skew)) s); check the clocks")
        }
        if let v = conditions.attribute("NotOnOrAfter") {
            let end = try time(v, "Conditions NotOnOrAfter")
            guard now - skew < end else {
                throw SAMLError(.expired, "the assertion expired at \(v) (now \(Timestamp.format(now)), skew \(Int(skew)) s); log in again")
            }
            validUntil = max(validUntil, end)
        }
        let restrictions = conditions.children(SAMLNamespace.assertion, "AudienceRestriction")
        guard !restrictions.isEmpty else { throw SAMLError(.wrongAudience, "the assertion has no AudienceRestriction; it could be meant for any SP") }
        for restriction in restrictions {
            let audiences = restriction.children(SAMLNamespace.assertion, "Audience").map(\.trimmedText)
            guard audiences.contains(configuration.entityID) else {
                throw SAMLError(.wrongAudience, "the assertion is for [\(audiences.joined(separator: ", "))], not this SP '\(configuration.entityID)'")
            }
        }
        for condition in conditions.children where !condition.is(SAMLNamespace.assertion, "AudienceRestriction") && !condition.is(SAMLNamespace.assertion, "OneTimeUse") {
            throw SAMLError(.unsupported, "the assertion carries the condition '\(condition.localName)', which this SP does not understand; the spec makes it invalid")
        }

        // Subject: NameID and a bearer confirmation for this ACS.
        guard let subject = assertion.child(SAMLNamespace.assertion, "Subject"),
              let nameIDElement = subject.child(SAMLNamespace.assertion, "NameID") else {
            throw SAMLError(.malformed, "the Assertion has no Subject with a NameID (encrypted identifiers are not supported)")
        }
        let nameID = nameIDElement.trimmedText
        guard !nameID.isEmpty, nameID.utf8.count <= 1024 else { throw SAMLError(.malformed, "the NameID is empty or longer than 1024 bytes") }
        validUntil = max(validUntil, try checkBearerConfirmation(subject))

        // Authentication statement.
        let statements = assertion.children(SAMLNamespace.assertion, "AuthnStatement")
        guard statements.count == 1, let authn = statements.first else {
            throw SAMLError(.malformed, "the Assertion holds \(statements.count) AuthnStatement elements; Web SSO needs exactly one")
        }
        guard let instantText = authn.attribute("AuthnInstant") else { throw SAMLError(.malformed, "the AuthnStatement has no AuthnInstant") }
        let authnInstant = try time(instantText, "AuthnInstant")
        if let v = authn.attribute("SessionNotOnOrAfter"), now - skew >= (try time(v, "SessionNotOnOrAfter")) {
            throw SAMLError(.expired, "the IdP session ended at \(v) (now \(Timestamp.format(now))); log in again")
        }
        let classRef = authn.child(SAMLNamespace.assertion, "AuthnContext")?.child(SAMLNamespace.assertion, "AuthnContextClassRef")?.trimmedText

        var attributes: [String: [String]] = [:]
        for statement in assertion.children(SAMLNamespace.assertion, "AttributeStatement") {
            for attribute in statement.children(SAMLNamespace.assertion, "Attribute") {
                let values = attribute.children(SAMLNamespace.assertion, "AttributeValue").map(\.trimmedText)
                for name in Set([attribute.attribute("Name"), attribute.attribute("FriendlyName")].compactMap({ $0 })) {
                    attributes[name, default: []].append(contentsOf: values)
                }
            }
        }
        return SAMLVerifiedAssertion(
            assertionID: id, issuer: idp, nameID: nameID, nameIDFormat: nameIDElement.attribute("Format"),
            sessionIndex: authn.attribute("SessionIndex"), authnInstant: authnInstant, authnContextClassRef: classRef,
            attributes: attributes, validUntil: validUntil + skew, responseSigned: responseSigned,
            assertionSigned: assertionSigned, signingCertificates: fingerprints)
    }

    /// At least one bearer SubjectConfirmation whose data fits this SP; returns its NotOnOrAfter.
    private func checkBearerConfirmation(_ subject: XMLElementRef) throws(SAMLError) -> Date {
        let bearers = subject.children(SAMLNamespace.assertion, "SubjectConfirmation")
            .filter { $0.attribute("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer" }
        guard !bearers.isEmpty else { throw SAMLError(.malformed, "the Subject has no bearer SubjectConfirmation") }
        var firstProblem: SAMLError?
        for bearer in bearers {
            do throws(SAMLError) {
                guard let data = bearer.child(SAMLNamespace.assertion, "SubjectConfirmationData") else {
                    throw SAMLError(.malformed, "the bearer SubjectConfirmation has no SubjectConfirmationData")
                }
                guard let recipient = data.attribute("Recipient") else { throw SAMLError(.wrongRecipient, "the bearer confirmation names no Recipient") }
                guard recipient == configuration.assertionConsumerServiceURL else {
                    throw SAMLError(.wrongRecipient, "the bearer confirmation is for Recipient '\(recipient)', not this ACS '\(configuration.assertionConsumerServiceURL)'")
                }
                guard data.attribute("NotBefore") == nil else { throw SAMLError(.malformed, "a bearer SubjectConfirmationData must not carry NotBefore") }
                guard let endText = data.attribute("NotOnOrAfter") else {
                    throw SAMLError(.malformed, "the bearer confirmation has no NotOnOrAfter; it would never expire")
                }
                let end = try time(endText, "SubjectConfirmationData NotOnOrAfter")
                guard now - skew < end else {
                    throw SAMLError(.expired, "the bearer confirmation expired at \(endText) (now \(Timestamp.format(now)), skew \(Int(skew)) s); log in again")
                }
                try checkInResponseTo(data.attribute("InResponseTo"), of: "SubjectConfirmationData", required: true)
                return end
            } catch {
                if firstProblem == nil { firstProblem = error }
            }
        }
        throw firstProblem!
    }

    private func checkIssuer(_ issuer: XMLElementRef, of what: String) throws(SAMLError) {
        if let format = issuer.attribute("Format"), format != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" {
            throw SAMLError(.wrongIssuer, "the \(what) Issuer has Format '\(format)'; an IdP is named by its entity id")
        }
        guard issuer.trimmedText == idp else {
            throw SAMLError(.wrongIssuer, "the \(what) was issued by '\(issuer.trimmedText)', not the configured IdP '\(idp)'")
        }
    }

    private func checkInResponseTo(_ value: String?, of what: String, required: Bool) throws(SAMLError) {
        guard let requestID else {
            guard configuration.acceptsUnsolicitedResponses else {
                throw SAMLError(.wrongRequest, "no AuthnRequest id was given and unsolicited (IdP-initiated) responses are not accepted")
            }
            return
        }
        guard let value else {
            if required { throw SAMLError(.wrongRequest, "the \(what) has no InResponseTo; expected '\(requestID)' (an unsolicited response?)") }
            return
        }
        guard value == requestID else {
            throw SAMLError(.wrongRequest, "the \(what) answers request '\(value)', not '\(requestID)'")
        }
    }

    private func checkStatus(_ response: XMLElementRef) throws(SAMLError) {
        guard let status = response.child(SAMLNamespace.samlProtocol, "Status"),
              let code = status.child(SAMLNamespace.samlProtocol, "StatusCode")?.attribute("Value") else {
            throw SAMLError(.malformed, "the Response has no Status/StatusCode")
        }
        guard code == "urn:oasis:names:tc:SAML:2.0:status:Success" else {
            let sub = status.child(SAMLNamespace.samlProtocol, "StatusCode")?.child(SAMLNamespace.samlProtocol, "StatusCode")?.attribute("Value")
            let message = status.child(SAMLNamespace.samlProtocol, "StatusMessage")?.trimmedText
            throw SAMLError(.idpStatus, "the IdP answered \(code)\(sub.map { " / " + $0 } ?? "")\(message.map { ": " + $0 } ?? "")")
        }
    }

    private func time(_ text: String, _ what: String) throws(SAMLError) -> Date {
        do { return try Timestamp.parse(text) } catch {
            throw SAMLError(.malformed, "\(what) '\(text.prefix(40))' is not an xs:dateTime in UTC")
        }
    }
}
