import EvidenceCore
import EvidenceOpenSSL
import EvidenceTSA
import Foundation
import PeerSupport
import Testing

/// RFC 3161 against `openssl ts -reply` behind scripts/peers/tsa_http.py on loopback.
@Suite("RFC 3161 against openssl ts", .timeLimit(.minutes(1)))
struct TSATests {
    private func peer() throws -> TSAPeer { try TSAPeer(port: Peers.nextTSAPort()) }

    private func authority(_ p: TSAPeer) throws -> RFC3161TimestampAuthority {
        RFC3161TimestampAuthority(url: p.url, anchors: try TSATrustAnchors(pemFile: p.anchorFile))
    }

    @Test func ourTokenVerifiesWithOpensslTsVerify() async throws {
        let p = try peer()
        let data = Array("checkpoint note bytes\n".utf8)
        try Data(data).write(to: URL(fileURLWithPath: p.dir + "/data.txt"))
        let digest = OpenSSLSHA256().hash(bytes: data)
        let token = try await authority(p).timestamp(digest)
        #expect(token.format == "rfc3161" && token.imprint == digest)
        #expect(abs(token.genTime.timeIntervalSinceNow) < 120)  // plausibility, not speed: a loaded CI machine can take seconds
        #expect(token.authority.contains("Test TSA"))
        try Data(token.token).write(to: URL(fileURLWithPath: p.dir + "/token.der"))
        let r = PeerProcess.run(["openssl", "ts", "-verify", "-in", p.dir + "/token.der", "-token_in", "-data", p.dir + "/data.txt", "-CAfile", p.anchorFile])
        #expect(r.status == 0 && r.output.contains("Verification: OK"), "\(r.output)")
        try authority(p).verify(token, for: digest)
    }

    @Test func tokenForAnotherDigestIsRejected() async throws {
        let p = try peer()
        let a = try authority(p)
        let token = try await a.timestamp(OpenSSLSHA256().hash("one"))
        let other = OpenSSLSHA256().hash("two")
        #expect { try RFC3161Verifier(anchors: a.anchors).verify(tokenDER: token.token, for: other) } throws: { e in
            (e as? TSAError)?.code == .verificationFailed && "\(e)".contains("not \(other.hex)")
        }
        #expect(throws: TSAError.self) { try a.verify(token, for: other) }
    }

    @Test func responseWithAnotherRequestsNonceIsRejected() async throws {
        let p = try peer()
        let a = try authority(p)
        let digest = OpenSSLSHA256().hash("nonce test")
        let first = try RFC3161TimestampAuthority.makeRequest(digest: digest)
        let second = try RFC3161TimestampAuthority.makeRequest(digest: digest)
        #expect(first.nonce != second.nonce)
        let reply = try await URLSessionTimeStampTransport().post(query: first.der, to: p.url)
        _ = try RFC3161Verifier(anchors: a.anchors).verify(responseDER: reply, requestDER: first.der, authority: "test")
        #expect { try RFC3161Verifier(anchors: a.anchors).verify(responseDER: reply, requestDER: second.der, authority: "test") } throws: { e in
            (e as? TSAError)?.code == .verificationFailed && "\(e)".contains("nonce")
        }
    }

    @Test func signerOutsideTheTrustAnchorsIsRejected() async throws {
        let p = try peer()
        let token = try await authority(p).timestamp(OpenSSLSHA256().hash("x"))
        let other = PeerProcess.scratch("othertsa")
        #expect(PeerProcess.run([PeerProcess.scripts + "/tsa-certs.sh", other]).status == 0)
        let stranger = try TSATrustAnchors(pemFile: other + "/tsa-ca.crt")
        #expect { try RFC3161Verifier(anchors: stranger).verify(tokenDER: token.token, for: token.imprint) } throws: { e in
            (e as? TSAError)?.code == .verificationFailed && "\(e)".contains("does not verify against \(other)/tsa-ca.crt")
        }
    }

    @Test func corruptedSignatureIsRejected() async throws {
        let p = try peer()
        let a = try authority(p)
        let token = try await a.timestamp(OpenSSLSHA256().hash("y"))
        var bad = token.token
        bad[bad.count - 3] ^= 0x01  // inside the ECDSA signature value, the last field of the token
        #expect { try RFC3161Verifier(anchors: a.anchors).verify(tokenDER: bad, for: token.imprint) } throws: { e in
            (e as? TSAError)?.code == .verificationFailed || (e as? TSAError)?.code == .malformed
        }
        try Data(bad).write(to: URL(fileURLWithPath: p.dir + "/bad.der"))
        let r = PeerProcess.run(["openssl", "ts", "-verify", "-in", p.dir + "/bad.der", "-token_in", "-digest", token.imprint.hex, "-CAfile", p.anchorFile])
        #expect(r.status != 0, "openssl ts must refuse the corrupted token too")
    }

    @Test func garbageIsNotATimeStampResponse() {
        #expect { try TimeStampResponse(der: [0x30, 0x03, 0x02, 0x01, 0x00]) } throws: { ($0 as? TSAError)?.code == .malformed }
        #expect { try TimeStampResponse(der: []) } throws: { ($0 as? TSAError)?.code == .malformed }
        #expect { try TimeStampResponse(der: [UInt8](repeating: 0x30, count: TimeStampLimits.maxDERBytes + 1)) } throws: { ($0 as? TSAError)?.code == .malformed }
    }
}
