import EvidenceCore
import EvidenceSAML
import Foundation
import PeerSupport
import Testing

/// LemonLDAP::NG, a production IdP, started on loopback by scripts/peers/llng_saml.py with
/// this SP's generated metadata; a scripted login of the demo user dwho yields a response
/// that the service provider accepts. Missing packages make the start fail, never skip.
/// Ports 18374-18375 (the OIDC suites use 18386-18387 and 18399).
@Suite("SAML against LemonLDAP::NG", .timeLimit(.minutes(2)))
struct LemonLDAPTests {
    static let script = PeerProcess.scripts + "/llng_saml.py"

    /// A running portal in its own folder; stopped (by its PID) and removed on `stop()`.
    struct Portal {
        let dir: String
        let port: Int
        init(port: Int) throws {
            self.port = port
            dir = NSTemporaryDirectory() + "saml-llng-\(getpid())-\(port)"
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let spMetadata = SAMLServiceProviderMetadata(entityID: SAMLIdP.spEntityID, assertionConsumerServiceURL: SAMLIdP.acsURL).xml
            try spMetadata.write(toFile: dir + "/sp-metadata.xml", atomically: true, encoding: .utf8)
            let r = SAMLIdP.run(["python3", LemonLDAPTests.script, "start", dir + "/idp", "\(port)", dir + "/sp-metadata.xml"], timeoutSeconds: 90)
            guard r.status == 0 else {
                stop()
                throw PeerError("LemonLDAP::NG did not start (apt-get install lemonldap-ng liblasso-perl, see scripts/apt-packages.txt): \(r.output.suffix(1500))")
            }
        }

        /// SP-initiated login of dwho/dwho; the SAMLResponse form value as posted.
        func login(requestID: String) throws -> String {
            let out = dir + "/response-\(requestID).b64"
            let r = SAMLIdP.run(["python3", LemonLDAPTests.script, "login", "\(port)", SAMLIdP.spEntityID, SAMLIdP.acsURL, requestID, out])
            guard r.status == 0, let posted = try? String(contentsOfFile: out, encoding: .utf8) else {
                throw PeerError("login at LemonLDAP::NG failed: \(r.output.suffix(1500))")
            }
            return posted
        }

        func serviceProvider() throws -> SAMLServiceProvider {
            let metadata = try SAMLIdentityProviderMetadata(xml: Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/idp/idp-metadata.xml"))))
            let configuration = try SAMLServiceProviderConfiguration(
                entityID: SAMLIdP.spEntityID, assertionConsumerServiceURL: SAMLIdP.acsURL, identityProvider: metadata,
                tenant: try TenantID("acme"), signatureRequirement: .assertionAndResponse)
            return SAMLServiceProvider(configuration: configuration, clock: ManualWallClock(Date()))
        }

        func stop() {
            _ = SAMLIdP.run(["python3", LemonLDAPTests.script, "stop", dir + "/idp"], timeoutSeconds: 20)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func scriptedLoginAtLemonLDAPYieldsThePrincipalWithBothSignaturesVerified() async throws {
        let portal = try Portal(port: 18374)
        defer { portal.stop() }
        let sp = try portal.serviceProvider()
        let posted = SAMLPostedResponse(samlResponse: try portal.login(requestID: "_req-llng-1"), requestID: "_req-llng-1")
        let assertion = try await sp.verify(posted)
        #expect(assertion.responseSigned && assertion.assertionSigned)
        let principal = try sp.principal(for: assertion)
        #expect(principal.subject == "dwho@badwolf.org")
        #expect(principal.issuer == "http://127.0.0.1:18374/saml/metadata")
        #expect(principal.displayName == "Doctor Who")
    }

    @Test func lemonLDAPResponseToAnotherRequestIsRefused() async throws {
        let portal = try Portal(port: 18375)
        defer { portal.stop() }
        let sp = try portal.serviceProvider()
        let posted = SAMLPostedResponse(samlResponse: try portal.login(requestID: "_req-llng-2"), requestID: "_req-llng-other")
        await #expect { _ = try await sp.verify(posted) } throws: { ($0 as? SAMLError)?.code == .wrongRequest }
    }
}
