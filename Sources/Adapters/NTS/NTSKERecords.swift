/// One NTS Key Establishment record (RFC 8915 §4): a critical bit, a 15-bit type and a body.
///
/// Guarantees: `serialized` is the exact wire form; parsing never reads past the buffer and
/// never allocates more than a bounded body (see `NTSKELimits`).
public struct NTSKERecord: Hashable, Sendable {
    /// A 15-bit record type; the constants are those registered by RFC 8915 §7.6. Any other
    /// value is carried as is (unknown critical records are refused by `NTSKEResponse`).
    public struct RecordType: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(_ rawValue: UInt16) { self.rawValue = rawValue & 0x7fff }
        public static let endOfMessage = RecordType(0)
        public static let nextProtocol = RecordType(1)
        public static let error = RecordType(2)
        public static let warning = RecordType(3)
        public static let aeadAlgorithm = RecordType(4)
        public static let newCookie = RecordType(5)
        public static let ntpServer = RecordType(6)
        public static let ntpPort = RecordType(7)
        public var description: String {
            switch rawValue {
            case 0: "End of Message"; case 1: "Next Protocol"; case 2: "Error"; case 3: "Warning"
            case 4: "AEAD Algorithm"; case 5: "New Cookie"; case 6: "NTPv4 Server"; case 7: "NTPv4 Port"
            default: "type \(rawValue)"
            }
        }
    }

    public var critical: Bool
    public var type: RecordType
    public var body: [UInt8]

    public init(critical: Bool, type: RecordType, body: [UInt8] = []) {
        self.critical = critical; self.type = type; self.body = body
    }

    public var serialized: [UInt8] {
        let t = type.rawValue | (critical ? 0x8000 : 0)
        return [UInt8(t >> 8), UInt8(t & 0xff), UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
    }

    /// `[UInt16]` view of a body made of 16-bit values (Next Protocol, AEAD, Error, Warning, Port).
    public var uint16Values: [UInt16]? {
        guard body.count % 2 == 0 else { return nil }
        return stride(from: 0, to: body.count, by: 2).map { UInt16(body[$0]) << 8 | UInt16(body[$0 + 1]) }
    }

    static func uint16Body(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] } }
}

/// Bounds applied to every NTS-KE message read from the network.
public struct NTSKELimits: Sendable {
    /// Largest whole response (all records up to End of Message).
    public var maxMessageBytes: Int
    /// Most records in one response.
    public var maxRecords: Int
    /// Largest single cookie; RFC 8915 leaves it open, chrony sends 100 bytes.
    public var maxCookieBytes: Int
    /// Most cookies kept from one response (RFC 8915 §4.1.6 suggests 8).
    public var maxCookies: Int
    public init(maxMessageBytes: Int = 16_384, maxRecords: Int = 64, maxCookieBytes: Int = 1024, maxCookies: Int = 8) {
        self.maxMessageBytes = maxMessageBytes; self.maxRecords = maxRecords
        self.maxCookieBytes = maxCookieBytes; self.maxCookies = maxCookies
    }
    public static let `default` = NTSKELimits()
}

/// Parser for a stream of NTS-KE records.
public enum NTSKERecordParser {
    /// Parses records from `bytes` until End of Message.
    ///
    /// Returns nil when the buffer ends before End of Message (read more and call again).
    /// Throws when a bound is broken: the buffer is larger than `maxMessageBytes`, there are
    /// more than `maxRecords` records, a record claims more bytes than the message may hold,
    /// or bytes follow End of Message.
    public static func parseMessage(_ bytes: [UInt8], limits: NTSKELimits = .default) throws -> [NTSKERecord]? {
        guard bytes.count <= limits.maxMessageBytes else {
            throw NTSError(.malformed, "NTS-KE: response exceeds \(limits.maxMessageBytes) bytes without End of Message; the server is not speaking NTS-KE correctly")
        }
        var records: [NTSKERecord] = []
        var i = 0
        while i + 4 <= bytes.count {
            let t = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            let len = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard i + 4 + len <= limits.maxMessageBytes else {
                throw NTSError(.malformed, "NTS-KE: record of \(len) bytes at offset \(i) would exceed the \(limits.maxMessageBytes)-byte message limit")
            }
            guard i + 4 + len <= bytes.count else { return nil }
            guard records.count < limits.maxRecords else {
                throw NTSError(.malformed, "NTS-KE: more than \(limits.maxRecords) records in one response")
            }
            let rec = NTSKERecord(critical: t & 0x8000 != 0, type: .init(t), body: Array(bytes[(i + 4)..<(i + 4 + len)]))
            records.append(rec)
            i += 4 + len
            if rec.type == .endOfMessage {
                guard len == 0 else { throw NTSError(.malformed, "NTS-KE: End of Message record has a \(len)-byte body") }
                guard i == bytes.count else {
                    throw NTSError(.malformed, "NTS-KE: \(bytes.count - i) bytes follow End of Message")
                }
                return records
            }
        }
        return nil
    }

    /// The client request of RFC 8915 §4: Next Protocol NTPv4, the AEAD list, End of Message.
    public static func clientRequest(aeadAlgorithms: [UInt16] = [NTSKEResponse.aeadAESSIVCMAC256]) -> [UInt8] {
        [NTSKERecord(critical: true, type: .nextProtocol, body: NTSKERecord.uint16Body([0])),
         NTSKERecord(critical: true, type: .aeadAlgorithm, body: NTSKERecord.uint16Body(aeadAlgorithms)),
         NTSKERecord(critical: true, type: .endOfMessage)].flatMap(\.serialized)
    }
}

/// The meaning of an NTS-KE server response, checked against RFC 8915 §4.
///
/// Guarantees: only a response that selects NTPv4 and AEAD_AES_SIV_CMAC_256 and carries at
/// least one cookie is accepted. Refuses Error and Warning records (with their codes),
/// unknown critical records, duplicated singleton records, a server name that is not
/// printable ASCII of at most 255 bytes, and cookies beyond `NTSKELimits`.
public struct NTSKEResponse: Sendable, Hashable {
    /// AEAD_AES_SIV_CMAC_256 (RFC 5297), the algorithm every NTS implementation must offer.
    public static let aeadAESSIVCMAC256: UInt16 = 15

    public var aeadAlgorithm: UInt16
    public var cookies: [[UInt8]]
    /// NTPv4 server from an NTPv4 Server Negotiation record; nil means the NTS-KE host.
    public var ntpServer: String?
    /// NTPv4 port from an NTPv4 Port Negotiation record; nil means 123.
    public var ntpPort: UInt16?

    public init(records: [NTSKERecord], server: String, limits: NTSKELimits = .default) throws {
        var nextProtocol: [UInt16]?
        var aead: [UInt16]?
        var cookies: [[UInt8]] = []
        var ntpServer: String?
        var ntpPort: UInt16?
        func once<T>(_ v: T?, _ name: String) throws {
            if v != nil { throw NTSError(.malformed, "NTS-KE: \(server) sent two \(name) records") }
        }
        for r in records {
            switch r.type {
            case .endOfMessage: break
            case .error:
                let code = r.uint16Values?.first.map(Int.init) ?? -1
                let what = [0: "unrecognized critical record", 1: "bad request", 2: "internal server error"][code] ?? "error code \(code)"
                throw NTSError(.keServerError, "NTS-KE: \(server) refused the key exchange (\(what)); check that it is an RFC 8915 server and retry later")
            case .warning:
                let code = r.uint16Values?.first.map(Int.init) ?? -1
                throw NTSError(.keServerError, "NTS-KE: \(server) sent warning \(code), which this client does not know; refusing the response rather than guessing its meaning")
            case .nextProtocol:
                try once(nextProtocol, "Next Protocol")
                guard let v = r.uint16Values else { throw NTSError(.malformed, "NTS-KE: \(server) sent an odd-length Next Protocol record") }
                nextProtocol = v
            case .aeadAlgorithm:
                try once(aead, "AEAD Algorithm")
                guard let v = r.uint16Values else { throw NTSError(.malformed, "NTS-KE: \(server) sent an odd-length AEAD record") }
                aead = v
            case .newCookie:
                guard !r.body.isEmpty, r.body.count <= limits.maxCookieBytes else {
                    throw NTSError(.malformed, "NTS-KE: \(server) sent a cookie of \(r.body.count) bytes (allowed 1...\(limits.maxCookieBytes))")
                }
                if cookies.count < limits.maxCookies { cookies.append(r.body) }
            case .ntpServer:
                try once(ntpServer, "NTPv4 Server")
                guard (1...255).contains(r.body.count), r.body.allSatisfy({ (0x21...0x7e).contains($0) }) else {
                    throw NTSError(.malformed, "NTS-KE: \(server) sent an NTPv4 Server record that is not 1-255 printable ASCII bytes")
                }
                ntpServer = String(decoding: r.body, as: UTF8.self)
            case .ntpPort:
                try once(ntpPort, "NTPv4 Port")
                guard r.body.count == 2, let p = r.uint16Values?.first, p != 0 else {
                    throw NTSError(.malformed, "NTS-KE: \(server) sent an NTPv4 Port record that is not one non-zero 16-bit port")
                }
                ntpPort = p
            default:
                if r.critical {
                    throw NTSError(.malformed, "NTS-KE: \(server) sent unknown critical record \(r.type.rawValue); this client cannot safely ignore it")
                }
            }
        }
        guard records.last?.type == .endOfMessage else {
            throw NTSError(.malformed, "NTS-KE: response from \(server) does not end with End of Message")
        }
        guard let np = nextProtocol, np == [0] else {
            throw NTSError(.negotiationFailed, "NTS-KE: \(server) did not agree to NTPv4 as next protocol (got \(nextProtocol.map { "\($0)" } ?? "none")); it cannot serve NTS-secured NTP")
        }
        guard let a = aead, a.count == 1, a[0] == Self.aeadAESSIVCMAC256 else {
            throw NTSError(.negotiationFailed, "NTS-KE: \(server) did not select AEAD_AES_SIV_CMAC_256 (15), got \(aead.map { "\($0)" } ?? "none"); the server must offer the mandatory AEAD")
        }
        guard !cookies.isEmpty else {
            throw NTSError(.negotiationFailed, "NTS-KE: \(server) sent no cookies; cannot query NTP without one")
        }
        self.aeadAlgorithm = a[0]; self.cookies = cookies; self.ntpServer = ntpServer; self.ntpPort = ntpPort
    }
}
