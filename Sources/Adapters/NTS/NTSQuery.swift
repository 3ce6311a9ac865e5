import COpenSSL
import EvidenceCore
import EvidenceOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// One authenticated NTP exchange with one server, and what it says about our clock.
///
/// The uncertainty bound (seconds) is
///
///     bound = delay/2                      — where on the round trip the server read its clock
///           + rootDelay/2 + rootDispersion — the server's own distance to its reference
///           + 2^precision(server) + clientPrecision — clock-reading granularity at each end
///           + PHI × (T4 − T1)              — drift of our clock during the exchange, PHI = 15 ppm
///
/// so that, if the server is honest and its reported root distance holds, the true offset of
/// our clock lies in `offset ± bound` (RFC 5905 §8 "the true offset is within θ ± δ/2", widened
/// by the server's root distance and both precisions).
public struct NTSMeasurement: Hashable, Sendable {
    /// The NTS-KE host that vouched (what its certificate names).
    public var server: String
    public var certificateSHA256: String
    /// True time minus our clock, seconds.
    public var offsetSeconds: Double
    /// Round-trip delay minus the server's processing time, seconds (never negative).
    public var delaySeconds: Double
    public var boundSeconds: Double
    public var stratum: UInt8
    /// Our wall clock (Unix seconds) and monotonic clock when the reply arrived.
    public var localReceiveTime: Double
    public var monotonicReceiveTime: Double
}

/// Knobs for NTP-over-NTS queries.
public struct NTSQueryOptions: Sendable {
    /// How long to wait for a valid reply; invalid replies (forged, replayed) are skipped
    /// until then and the last reason is reported.
    public var timeoutSeconds: Double
    /// Cookies to hold; placeholders ask the server to top the store up to this (1...8).
    public var cookieTarget: Int
    /// Granularity of our wall clock reads, seconds (Foundation `Date` resolves ~0.25 µs today; 1 µs is conservative).
    public var clientPrecisionSeconds: Double
    /// Maximum frequency error of our oscillator (RFC 5905 PHI, 15 ppm).
    public var frequencyTolerance: Double
    public var limits: NTPExtensionLimits
    public var cookieLimits: NTSKELimits
    public init(timeoutSeconds: Double = 2, cookieTarget: Int = 8, clientPrecisionSeconds: Double = 1e-6,
                frequencyTolerance: Double = 15e-6, limits: NTPExtensionLimits = .default, cookieLimits: NTSKELimits = .default) {
        self.timeoutSeconds = timeoutSeconds; self.cookieTarget = max(1, min(8, cookieTarget))
        self.clientPrecisionSeconds = clientPrecisionSeconds; self.frequencyTolerance = frequencyTolerance
        self.limits = limits; self.cookieLimits = cookieLimits
    }
}

/// NTPv4 client mode with NTS extension fields (RFC 8915 §5).
///
/// Guarantees: a measurement is returned only for a server-mode reply that echoes our origin
/// timestamp and unique identifier and whose authenticator verifies under the S2C key; new
/// cookies are taken only from the encrypted part. Every cookie is used once (it is removed
/// from the session before sending, even if the exchange then fails).
/// Refuses: replies without NTS fields, tampered or replayed replies, Kiss-o'-Death (`NTSN`
/// means the session is dead: run NTS-KE again), leap 3 or stratum ≥ 16.
public enum NTSQuery {
    static let phiDefault = 15e-6

    /// One exchange. Blocking; `session` loses one cookie and gains those the server sends.
    public static func run(session: inout NTSKESession, sendTo target: NetworkEndpoint? = nil,
                           clock: any WallClock, options: NTSQueryOptions = .init()) throws -> NTSMeasurement {
        let name = session.keServer.host
        guard !session.cookies.isEmpty else { throw NTSError(.negotiationFailed, "NTS: no cookie left for \(name); run NTS-KE again") }
        let cookie = session.cookies.removeFirst()
        let endpoint = target ?? session.ntpServer
        let sock = try Sockets.open(endpoint, datagram: true, timeoutSeconds: options.timeoutSeconds, what: "NTP")

        let transmit = try random(8)
        let uid = try random(32)
        let nonce = try random(16)
        var packet = [UInt8](repeating: 0, count: NTPHeader.byteCount)
        packet[0] = 0x23  // LI 0, version 4, mode 3 (client)
        packet.replaceSubrange(40..<48, with: transmit)  // random, so the request reveals nothing of our clock
        packet += NTPExtensionField(type: NTPExtensionField.uniqueIdentifier, body: uid).serialized
        packet += NTPExtensionField(type: NTPExtensionField.ntsCookie, body: cookie).serialized
        let placeholders = max(0, options.cookieTarget - 1 - session.cookies.count)
        for _ in 0..<placeholders {
            packet += NTPExtensionField(type: NTPExtensionField.ntsCookiePlaceholder, body: [UInt8](repeating: 0, count: cookie.count)).serialized
        }
        let siv = try AESSIVCMAC256(key: session.c2sKey).seal([], associatedData: [packet, nonce])
        let authBody: [UInt8] = [0, UInt8(nonce.count), UInt8(siv.count >> 8), UInt8(siv.count & 0xff)] + nonce + siv
        packet += NTPExtensionField(type: NTPExtensionField.ntsAuthenticator, body: authBody).serialized

        let t1 = clock.now().timeIntervalSince1970
        let m1 = Monotonic.now()
        guard send(sock.fd, packet, packet.count, 0) == packet.count else {
            throw NTSError(.network, "NTP: cannot send to \(endpoint): \(String(cString: strerror(errno)))")
        }
        let deadline = m1 + options.timeoutSeconds
        var lastRejection: NTSError?
        var buffer = [UInt8](repeating: 0, count: options.limits.maxPacketBytes + 1)
        while true {
            let remaining = deadline - Monotonic.now()
            if remaining <= 0 { break }
            Sockets.setTimeouts(sock.fd, remaining)
            let n = recv(sock.fd, &buffer, buffer.count, 0)
            let m4 = Monotonic.now()
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                if errno == ECONNREFUSED { lastRejection = NTSError(.network, "NTP: \(endpoint) refused the query (nothing listens on that port)"); continue }
                throw NTSError(.network, "NTP: receive from \(endpoint) failed: \(String(cString: strerror(errno)))")
            }
            let reply = Array(buffer[0..<n])
            do {
                let cookies = try validate(reply, transmit: transmit, uid: uid, s2cKey: session.s2cKey, server: name, options: options)
                let header = try NTPHeader(bytes: reply)
                for c in cookies where session.cookies.count < min(options.cookieLimits.maxCookies, 8) { session.cookies.append(c) }
                let t4 = t1 + (m4 - m1)
                let t2 = NTPTime.unixSeconds(header.receiveTime, near: t1)
                let t3 = NTPTime.unixSeconds(header.transmitTime, near: t1)
                guard t3 >= t2 else { throw NTSError(.malformed, "NTP: \(name) claims it sent its reply before receiving our request") }
                let offset = ((t2 - t1) + (t3 - t4)) / 2
                let delay = max(0, (t4 - t1) - (t3 - t2))
                let bound = delay / 2 + header.rootDelaySeconds / 2 + header.rootDispersionSeconds
                    + Double.pow2(Int(header.precision)) + options.clientPrecisionSeconds + options.frequencyTolerance * (m4 - m1)
                return NTSMeasurement(server: name, certificateSHA256: session.certificateSHA256, offsetSeconds: offset,
                                      delaySeconds: delay, boundSeconds: bound, stratum: header.stratum,
                                      localReceiveTime: t4, monotonicReceiveTime: m4)
            } catch let e as NTSError where e.code == .kissOfDeath || e.code == .ntsNAK || e.code == .unsynchronised {
                throw e  // authenticated (or UID-matched KoD) verdicts end the exchange
            } catch let e as NTSError {
                lastRejection = e  // forged, replayed or garbled: keep waiting for the real reply
            }
        }
        throw lastRejection ?? NTSError(.timedOut, "NTP: no reply from \(endpoint) within \(options.timeoutSeconds) s; check that the server's NTP port is reachable over UDP")
    }

    /// Checks one reply; returns the cookies from its encrypted part.
    static func validate(_ reply: [UInt8], transmit: [UInt8], uid: [UInt8], s2cKey: [UInt8],
                         server: String, options: NTSQueryOptions) throws -> [[UInt8]] {
        let header = try NTPHeader(bytes: reply)
        guard header.mode == 4, header.version == 4 else {
            throw NTSError(.malformed, "NTP: reply from \(server) is mode \(header.mode) version \(header.version), expected a version-4 server reply")
        }
        guard Array(reply[24..<32]) == transmit else {
            throw NTSError(.replyMismatch, "NTP: reply from \(server) does not echo our origin timestamp: replayed or not ours; ignored")
        }
        let fields = try NTPExtensionFieldParser.parse(reply, from: NTPHeader.byteCount, limits: options.limits)
        guard fields.count(where: { $0.type == NTPExtensionField.uniqueIdentifier }) == 1,
              let uidField = fields.first(where: { $0.type == NTPExtensionField.uniqueIdentifier }),
              uidField.body.count >= 32, Array(uidField.body.prefix(32)) == uid else {
            if fields.isEmpty {
                throw NTSError(.authenticationFailed, "NTP: reply from \(server) carries no NTS extension fields; an unauthenticated reply is never used")
            }
            throw NTSError(.replyMismatch, "NTP: reply from \(server) does not carry our unique identifier: replayed or tampered; ignored")
        }
        if header.stratum == 0 {
            let code = header.kissCode
            if code == "NTSN" {
                throw NTSError(.ntsNAK, "NTP: \(server) sent NTS NAK (NTSN): it refused our cookie or tag; a new NTS-KE is needed")
            }
            throw NTSError(.kissOfDeath, "NTP: \(server) sent Kiss-o'-Death \(code); back off before asking again")
        }
        guard let auth = fields.first(where: { $0.type == NTPExtensionField.ntsAuthenticator }) else {
            throw NTSError(.authenticationFailed, "NTP: reply from \(server) carries no NTS authenticator; an unauthenticated reply is never used")
        }
        let body = auth.body
        guard body.count >= 4 else { throw NTSError(.malformed, "NTP: authenticator from \(server) is too short") }
        let nonceLen = Int(body[0]) << 8 | Int(body[1])
        let ctLen = Int(body[2]) << 8 | Int(body[3])
        let nonceEnd = 4 + (nonceLen + 3) / 4 * 4
        guard nonceLen > 0, ctLen >= AESSIVCMAC256.tagByteCount, nonceEnd + ctLen <= body.count else {
            throw NTSError(.malformed, "NTP: authenticator from \(server) has nonce \(nonceLen) / ciphertext \(ctLen) bytes that do not fit its \(body.count)-byte body")
        }
        let nonce = Array(body[4..<(4 + nonceLen)])
        let ciphertext = Array(body[nonceEnd..<(nonceEnd + ctLen)])
        let associated = Array(reply[0..<auth.offset])
        let plaintext: [UInt8]
        do {
            plaintext = try AESSIVCMAC256(key: s2cKey).open(ciphertext, associatedData: [associated, nonce])
        } catch {
            throw NTSError(.authenticationFailed, "NTP: reply from \(server) fails its NTS authenticator (AEAD tag mismatch): tampered in transit or not from the server; ignored")
        }
        guard header.leap != 3, (1...15).contains(header.stratum) else {
            throw NTSError(.unsynchronised, "NTP: \(server) reports leap \(header.leap), stratum \(header.stratum): it is not synchronised; do not use it as a time source")
        }
        guard header.transmitTime != 0 else { throw NTSError(.malformed, "NTP: reply from \(server) has no transmit timestamp") }
        var cookies: [[UInt8]] = []
        for f in try NTPExtensionFieldParser.parse(plaintext, limits: options.limits) where f.type == NTPExtensionField.ntsCookie {
            guard !f.body.isEmpty, f.body.count <= options.cookieLimits.maxCookieBytes else {
                throw NTSError(.malformed, "NTP: \(server) sent a \(f.body.count)-byte cookie (allowed 1...\(options.cookieLimits.maxCookieBytes))")
            }
            cookies.append(f.body)
        }
        return cookies
    }

    static func random(_ n: Int) throws -> [UInt8] {
        var b = [UInt8](repeating: 0, count: n)
        guard RAND_bytes(&b, Int32(n)) == 1 else { throw NTSError(.tls, "NTS: the random source failed") }
        return b
    }
}

extension Double {
    /// 2^e for the signed log2 precision of NTP headers.
    static func pow2(_ e: Int) -> Double { e >= 0 ? Double(1 << min(e, 62)) : 1 / Double(1 << min(-e, 62)) }
}
