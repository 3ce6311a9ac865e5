import EvidenceCore
import Foundation
import PeerSupport
import Testing

/// `nis2ctl time`, `anchor` and `time verify` as an operator runs them, against real peers.
@Suite("nis2ctl time and anchor", .timeLimit(.minutes(1)))
struct TimeCommandTests {
    private func nis2ctl() throws -> String {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return p }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()].map({ $0.appendingPathComponent("nis2ctl").path }) where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PeerError("nis2ctl not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
    }

    @Test func timeCommandPrintsAnAuthenticatedSampleAndFailsOnAWrongCA() throws {
        let exe = try nis2ctl()
        let nts = try ChronyNTSServer()
        let ok = PeerProcess.run([exe, "time", "--nts", "127.0.0.1:\(nts.kePort)", "--ca", nts.caFile, "--json"])
        #expect(ok.status == 0, "\(ok.output)")
        let json = try JSONParser.parse(ok.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["source"]?.stringValue == "nts")
        #expect(json["witnesses"]?.arrayValue?.count == 1)
        let other = PeerProcess.scratch("otherca")
        #expect(PeerProcess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                               "-keyout", other + "/ca.key", "-out", other + "/ca.crt", "-subj", "/CN=Other CA"]).status == 0)
        let untrusted = PeerProcess.run([exe, "time", "--nts", "127.0.0.1:\(nts.kePort)", "--ca", other + "/ca.crt"])
        #expect(untrusted.status == 1 && untrusted.output.contains("not trusted by CA file"), "\(untrusted.output)")
        let usage = PeerProcess.run([exe, "time", "--ca", nts.caFile])
        #expect(usage.status == 2 && usage.output.contains("--nts"))
    }

    @Test func anchorThenTimeVerifyOnAStore() throws {
        let exe = try nis2ctl()
        let nts = try ChronyNTSServer()
        let tsa = try TSAPeer(port: Peers.nextTSAPort())
        let store = PeerProcess.scratch("store") + "/s"
        #expect(PeerProcess.run([exe, "init", "--store", store]).status == 0)
        #expect(PeerProcess.run([exe, "tenant", "add", "--store", store, "--tenant", "acme"]).status == 0)
        let input = PeerProcess.scratch("in") + "/records.jsonl"
        try Data(#"{"kind":"grant.approved","body":{"grant":"g-1"}}"#.utf8 + [0x0a]).write(to: URL(fileURLWithPath: input))
        let appended = PeerProcess.run(["/bin/sh", "-c", "'\(exe)' log append --store '\(store)' --tenant acme < '\(input)'"])
        #expect(appended.status == 0, "\(appended.output)")
        let anchored = PeerProcess.run([exe, "anchor", "--store", store, "--tenant", "acme", "--tsa", tsa.url.absoluteString,
                                      "--tsa-ca", tsa.anchorFile, "--nts", "127.0.0.1:\(nts.kePort)", "--ca", nts.caFile, "--json"])
        #expect(anchored.status == 0, "\(anchored.output)")
        let verified = PeerProcess.run([exe, "time", "verify", "--store", store, "--tenant", "acme", "--tsa-ca", tsa.anchorFile])
        #expect(verified.status == 0 && verified.output.contains("1 of 1 time anchors verify"), "\(verified.output)")
        // Against another trust anchor the same token must not verify.
        let foreign = PeerProcess.run([exe, "time", "verify", "--store", store, "--tenant", "acme", "--tsa-ca", nts.caFile])
        #expect(foreign.status == 1, "\(foreign.output)")
    }

    @Test func logVerifyChecksTimeAnchorsToo() throws {
        let exe = try nis2ctl()
        let tsa = try TSAPeer(port: Peers.nextTSAPort())
        let store = PeerProcess.scratch("store") + "/s"
        #expect(PeerProcess.run([exe, "init", "--store", store]).status == 0)
        #expect(PeerProcess.run([exe, "tenant", "add", "--store", store, "--tenant", "acme"]).status == 0)
        let input = PeerProcess.scratch("in") + "/records.jsonl"
        try Data(#"{"kind":"session.start","body":{"session":"s-1"}}"#.utf8 + [0x0a]).write(to: URL(fileURLWithPath: input))
        #expect(PeerProcess.run(["/bin/sh", "-c", "'\(exe)' log append --store '\(store)' --tenant acme < '\(input)'"]).status == 0)
        let anchored = PeerProcess.run([exe, "anchor", "--store", store, "--tenant", "acme", "--tsa", tsa.url.absoluteString, "--tsa-ca", tsa.anchorFile])
        #expect(anchored.status == 0, "\(anchored.output)")
        let ok = PeerProcess.run([exe, "log", "verify", "--store", store, "--tsa-ca", tsa.anchorFile])
        #expect(ok.status == 0 && ok.output.contains("1 RFC 3161 time anchor(s) verified"), "\(ok.output)")
        // The same token against a trust anchor that did not issue it: the log no longer verifies.
        let otherCA = PeerProcess.scratch("ca")
        #expect(PeerProcess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                               "-keyout", otherCA + "/k.pem", "-out", otherCA + "/ca.crt", "-subj", "/CN=Other CA"]).status == 0)
        let foreign = PeerProcess.run([exe, "log", "verify", "--store", store, "--tsa-ca", otherCA + "/ca.crt"])
        #expect(foreign.status == 1 && foreign.output.contains("time anchor does not verify"), "\(foreign.output)")
    }
}
