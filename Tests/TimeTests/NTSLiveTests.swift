import EvidenceCore
import EvidenceNTS
import Foundation
import PeerSupport
import Testing

/// NTS against a real chrony 4.3 NTS server on loopback (one per test, own ports).
@Suite("NTS client against chrony", .timeLimit(.minutes(1)))
struct NTSLiveTests {
    private func source(_ server: ChronyNTSServer, host: String = "127.0.0.1", ca: String? = nil, relay: UDPRelay? = nil,
                        timeout: Double = 1) -> NTSTimeSource {
        NTSTimeSource(servers: [NTSServerConfiguration(keServer: NetworkEndpoint(host: host, port: server.kePort),
                                                       trust: .caFile(ca ?? server.caFile),
                                                       ntpOverride: relay.map { NetworkEndpoint(host: "127.0.0.1", port: $0.port) })],
                      options: NTSQueryOptions(timeoutSeconds: timeout), keTimeoutSeconds: 3)
    }

    private func relay(_ server: ChronyNTSServer, _ mode: UDPRelay.Mode) throws -> UDPRelay {
        try UDPRelay(port: UInt16(18300) + server.ntpPort - 11100, upstream: server.ntpPort, mode: mode)
    }

    @Test func chronyGivesAnAuthenticatedSampleWithPlausibleOffsetAndDelay() async throws {
        let server = try ChronyNTSServer()
        let before = Date()
        let sample = try await source(server).sample()
        let after = Date()
        #expect(sample.source == "nts")
        let w = try #require(sample.witnesses.first)
        #expect(sample.witnesses.count == 1)
        #expect(w.server == "127.0.0.1")
        // Same machine, same clock: offset near zero, loopback delay well under 50 ms.
        #expect(abs(w.offsetSeconds) < 0.01)
        #expect(w.delaySeconds >= 0 && w.delaySeconds < 0.05)
        #expect(w.boundSeconds >= w.delaySeconds / 2 && w.boundSeconds < 0.05)
        // One server: the sample's bound is its bound plus 15 ppm drift since the reply
        // (the reply is seconds old at most, even on a loaded CI machine).
        #expect(sample.boundSeconds >= w.boundSeconds && sample.boundSeconds <= w.boundSeconds + 10 * 15e-6)
        #expect(sample.time.timeIntervalSince(before) > -0.05 && after.timeIntervalSince(sample.time) > -0.05)
        let fp = PeerProcess.run(["openssl", "x509", "-in", server.dir + "/server.crt", "-noout", "-fingerprint", "-sha256"])
        let expected = fp.output.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased().trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(w.certificateSHA256 == expected)
    }

    @Test func cookiesAreReusedAcrossQueriesAndReplenished() async throws {
        let server = try ChronyNTSServer()
        let src = source(server)
        _ = try await src.sample()
        let afterFirst = await src.heldCookies(server: 0)
        #expect(afterFirst.count == 8)
        _ = try await src.sample()
        _ = try await src.sample()
        let afterThird = await src.heldCookies(server: 0)
        let stats = await src.statistics()[0]
        #expect(stats.keyExchanges == 1)
        #expect(stats.queries == 3 && stats.authenticatedReplies == 3)
        #expect(afterThird.count == 8)
        // The two cookies spent were the oldest; the server's fresh ones replaced them.
        #expect(!afterThird.contains(afterFirst[0]) && !afterThird.contains(afterFirst[1]))
        #expect(Set(afterThird).count == 8)
    }

    @Test func aNewKeyExchangeRunsWhenCookiesRunOut() async throws {
        let server = try ChronyNTSServer()
        let r = try relay(server, .drop)
        defer { r.stop() }
        let src = source(server, relay: r, timeout: 0.15)
        for _ in 0..<8 {
            await #expect(throws: NTSError.self) { try await src.sample() }
        }
        #expect(await src.heldCookies(server: 0).isEmpty)
        r.setMode(.pass)
        _ = try await src.sample()
        #expect(await src.statistics()[0].keyExchanges == 2)
    }

    @Test func ntsNAKForARefusedCookieTriggersAFreshKeyExchange() async throws {
        let server = try ChronyNTSServer()
        // Flip a byte inside the cookie of the first request: chrony answers NTSN.
        let r = try relay(server, .flipRequestOnce(at: 48 + 36 + 4 + 10))
        defer { r.stop() }
        let src = source(server, relay: r)
        let sample = try await src.sample()
        #expect(sample.witnesses.count == 1)
        let stats = await src.statistics()[0]
        #expect(stats.naks == 1 && stats.keyExchanges == 2)
    }

    @Test func serverCertificateFromAnotherCAIsRefused() async throws {
        let server = try ChronyNTSServer()
        let other = PeerProcess.scratch("otherca")
        let made = PeerProcess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                                  "-keyout", other + "/ca.key", "-out", other + "/ca.crt", "-subj", "/CN=Other CA"])
        #expect(made.status == 0)
        await #expect { try await source(server, ca: other + "/ca.crt").sample() } throws: { e in
            guard let e = e as? NTSError else { return false }
            return e.message.contains("NTS-KE: server certificate for 127.0.0.1 is not trusted by CA file \(other)/ca.crt")
        }
        let ke = NTSKEClient(server: NetworkEndpoint(host: "127.0.0.1", port: server.kePort), trust: .caFile(other + "/ca.crt"))
        #expect { try ke.establish() } throws: { ($0 as? NTSError)?.code == .untrustedCertificate }
    }

    @Test func certificateForAnotherHostNameIsRefused() throws {
        let server = try ChronyNTSServer(certificateNames: "DNS:ntp.example.test")
        let ke = NTSKEClient(server: NetworkEndpoint(host: "127.0.0.1", port: server.kePort), trust: .caFile(server.caFile))
        #expect { try ke.establish() } throws: { e in
            guard let e = e as? NTSError else { return false }
            return e.code == .hostNameMismatch && e.message.contains("not issued for '127.0.0.1'")
        }
    }

    @Test func dnsNameInTheCertificateIsAccepted() throws {
        let server = try ChronyNTSServer()
        let session = try NTSKEClient(server: NetworkEndpoint(host: "localhost", port: server.kePort), trust: .caFile(server.caFile)).establish()
        #expect(session.cookies.count == 8 && session.aeadAlgorithm == 15 && session.ntpServer.port == server.ntpPort)
    }

    @Test func ipv6LoopbackLiteralIsVerifiedAgainstTheIPAddressInTheCertificate() async throws {
        let server = try ChronyNTSServer()
        let ke = try NetworkEndpoint(parsing: "[::1]:\(server.kePort)", defaultPort: 4460)
        #expect(ke.host == "::1" && ke.isIPLiteral)
        let sample = try await NTSTimeSource(servers: [NTSServerConfiguration(keServer: ke, trust: .caFile(server.caFile))]).sample()
        #expect(sample.witnesses.map(\.server) == ["::1"])
    }

    @Test func tlsServerWithoutALPNIsRefused() throws {
        let server = try ChronyNTSServer()
        let port = server.kePort + 50
        let pid = try PeerProcess.spawn(["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", server.dir + "/server.crt",
                                   "-key", server.dir + "/server.key", "-tls1_3", "-quiet"], log: server.dir + "/s_server.log")
        defer { PeerProcess.stop(pid) }
        let ke = NTSKEClient(server: NetworkEndpoint(host: "127.0.0.1", port: port), trust: .caFile(server.caFile), timeoutSeconds: 2)
        var outcome: (any Error)?
        for _ in 0..<50 {  // until s_server listens
            do { _ = try ke.establish(); break } catch let e as NTSError where e.code == .network { usleep(50_000) } catch { outcome = error; break }
        }
        let e = try #require(outcome as? NTSError)
        #expect(e.code == .alpnNotNegotiated)
        #expect(e.message.contains("did not select ALPN ntske/1"))
    }

    @Test func keErrorRecordFromTheServerIsReported() throws {
        let server = try ChronyNTSServer()
        let ke = NTSKEClient(server: NetworkEndpoint(host: "127.0.0.1", port: server.kePort), trust: .caFile(server.caFile))
        // An unknown critical record makes chrony answer Error 0 (unrecognized critical record).
        let request = NTSKERecord(critical: true, type: .nextProtocol, body: [0, 0]).serialized
            + NTSKERecord(critical: true, type: .aeadAlgorithm, body: [0, 15]).serialized
            + NTSKERecord(critical: true, type: .init(0x50), body: [1, 2]).serialized
            + NTSKERecord(critical: true, type: .endOfMessage).serialized
        let records = try ke.exchange(request: request)
        #expect(records.contains { $0.type == .error })
        #expect { try NTSKEResponse(records: records, server: "127.0.0.1") } throws: { e in
            guard let e = e as? NTSError else { return false }
            return e.code == .keServerError && e.message.contains("unrecognized critical record")
        }
    }

    @Test func replyWithTamperedAuthenticatorIsRefused() async throws {
        let server = try ChronyNTSServer()
        let r = try relay(server, .flipByte(at: 150))  // inside the authenticator's ciphertext
        defer { r.stop() }
        await #expect { try await source(server, relay: r, timeout: 0.3).measure(server: 0) } throws: { e in
            (e as? NTSError)?.code == .authenticationFailed && "\(e)".contains("AEAD tag mismatch")
        }
    }

    @Test func replyWithTamperedUniqueIdentifierIsRefused() async throws {
        let server = try ChronyNTSServer()
        let r = try relay(server, .flipByte(at: 48 + 4 + 5))
        defer { r.stop() }
        await #expect { try await source(server, relay: r, timeout: 0.3).measure(server: 0) } throws: { e in
            (e as? NTSError)?.code == .replyMismatch && "\(e)".contains("unique identifier")
        }
    }

    @Test func replayedReplyIsRefused() async throws {
        let server = try ChronyNTSServer()
        let r = try relay(server, .replayFirst)
        defer { r.stop() }
        let src = source(server, relay: r, timeout: 0.3)
        _ = try await src.measure(server: 0)
        await #expect { try await src.measure(server: 0) } throws: { e in
            (e as? NTSError)?.code == .replyMismatch && "\(e)".contains("origin timestamp")
        }
    }

    @Test func replyWithoutNTSFieldsIsRefused() async throws {
        let server = try ChronyNTSServer()
        let r = try relay(server, .truncateToHeader)
        defer { r.stop() }
        await #expect { try await source(server, relay: r, timeout: 0.3).measure(server: 0) } throws: { e in
            (e as? NTSError)?.code == .authenticationFailed && "\(e)".contains("no NTS extension fields")
        }
    }

    @Test func threeServersWhereOneIsUnreachableStillGiveAMajority() async throws {
        let a = try ChronyNTSServer(), b = try ChronyNTSServer()
        let ok = { (s: ChronyNTSServer) in NTSServerConfiguration(keServer: NetworkEndpoint(host: "127.0.0.1", port: s.kePort), trust: .caFile(s.caFile)) }
        let dead = NTSServerConfiguration(keServer: NetworkEndpoint(host: "127.0.0.1", port: 14498), trust: .caFile(a.caFile))
        let sample = try await NTSTimeSource(servers: [ok(a), dead, ok(b)], options: .init(timeoutSeconds: 0.5), keTimeoutSeconds: 1).sample()
        #expect(sample.witnesses.count == 2)
        let single = NTSTimeSource(servers: [dead, ok(a), dead], options: .init(timeoutSeconds: 0.5), keTimeoutSeconds: 1)
        await #expect { try await single.sample() } throws: { ($0 as? NTSError)?.code == .noMajority }
    }
}
