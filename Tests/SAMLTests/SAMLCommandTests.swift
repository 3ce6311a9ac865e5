import EvidenceCore
import Foundation
import PeerSupport
import Testing

/// `nis2ctl verify saml-response` as an integrator runs it on a response from their IdP.
@Suite("nis2ctl verify saml-response", .timeLimit(.minutes(1)))
struct SAMLCommandTests {
    private func nis2ctl() throws -> String {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return p }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()].map({ $0.appendingPathComponent("nis2ctl").path }) where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PeerError("nis2ctl not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
    }

    /// Writes the response and metadata to files and runs the checker with `extra` options.
    private func verify(_ response: String, _ extra: [String] = [], acsURL: String = SAMLIdP.acsURL) throws -> (status: Int32, output: String) {
        let dir = NSTemporaryDirectory() + "saml-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try response.write(toFile: dir + "/response.b64", atomically: true, encoding: .utf8)
        try SAMLIdP.metadata().write(toFile: dir + "/idp.xml", atomically: true, encoding: .utf8)
        return SAMLIdP.run([try nis2ctl(), "verify", "saml-response", dir + "/response.b64", "--idp-metadata", dir + "/idp.xml",
                            "--sp-entity-id", SAMLIdP.spEntityID, "--acs-url", acsURL] + extra)
    }

    @Test func validResponseExitsZeroWithThePrincipalAsJSON() throws {
        let r = try verify(try SAMLIdP.response(base64: true), ["--request-id", SAMLIdP.requestID, "--tenant", "acme"])
        #expect(r.status == 0, "\(r.output)")
        let json = try JSONParser.parse(Array(r.output.utf8))
        #expect(json["subject"]?.stringValue == "alice@msp.example")
        #expect(json["tenant"]?.stringValue == "acme")
        #expect(json["assurance"]?.stringValue == "password")
    }

    @Test func wrongACSURLExitsOneNamingTheRecipient() throws {
        let r = try verify(try SAMLIdP.response(base64: true), acsURL: "https://elsewhere.example.test/acs")
        #expect(r.status == 1)
        #expect(r.output.contains("wrongRecipient") && r.output.contains("https://elsewhere.example.test/acs"), "\(r.output)")
    }

    @Test func nowAfterTheValidityWindowExitsOneAsExpired() throws {
        let later = Timestamp.format(Date().addingTimeInterval(7200))
        let r = try verify(try SAMLIdP.response(base64: true), ["--now", later])
        #expect(r.status == 1)
        #expect(r.output.contains("expired"), "\(r.output)")
    }

    @Test func missingRequiredOptionIsAUsageError() throws {
        let r = SAMLIdP.run([try nis2ctl(), "verify", "saml-response", "/dev/null", "--acs-url", SAMLIdP.acsURL])
        #expect(r.status == 2, "\(r.output)")
    }
}
