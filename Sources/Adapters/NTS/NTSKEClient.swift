import COpenSSL
import EvidenceCore
import EvidenceOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// Which certificates an NTS-KE server must chain to.
public enum NTSTrust: Hashable, Sendable {
    /// The operating system's CA store (OpenSSL's default paths).
    case systemStore
    /// Only the CA certificates in this PEM file.
    case caFile(String)
}

/// The result of one NTS key exchange: AEAD keys, cookies and where to send NTP.
///
/// Holds secret keys: never log or persist it.
public struct NTSKESession: Sendable {
    public var keServer: NetworkEndpoint
    public var ntpServer: NetworkEndpoint
    public var aeadAlgorithm: UInt16
    /// Client-to-server key (RFC 8915 §5.1 exporter, context byte 0).
    var c2sKey: [UInt8]
    /// Server-to-client key (context byte 1).
    var s2cKey: [UInt8]
    /// Unused cookies, oldest first; each is sent once.
    public internal(set) var cookies: [[UInt8]]
    /// SHA-256 of the server's leaf certificate (DER), lower-case hex.
    public var certificateSHA256: String
}

/// NTS Key Establishment client (RFC 8915 §4) over TLS 1.3 with libssl.
///
/// Guarantees: a session is returned only after a TLS 1.3 handshake whose certificate chains
/// to the configured trust and matches the dialled host name or IP address, with ALPN
/// `ntske/1` selected by the server, and a response that passes `NTSKEResponse`. Keys come
/// from the TLS exporter with the RFC 8915 label and context. Blocking; call it off the
/// cooperative thread pool (`NTSTimeSource` does).
///
/// Refuses: TLS below 1.3, untrusted or mismatched certificates, servers that do not select
/// ALPN `ntske/1`, and responses that break `NTSKELimits`.
public struct NTSKEClient: Sendable {
    public var server: NetworkEndpoint
    public var trust: NTSTrust
    public var timeoutSeconds: Double
    public var limits: NTSKELimits

    public init(server: NetworkEndpoint, trust: NTSTrust = .systemStore, timeoutSeconds: Double = 5, limits: NTSKELimits = .default) {
        self.server = server; self.trust = trust; self.timeoutSeconds = timeoutSeconds; self.limits = limits
    }

    /// Runs a full key exchange and returns the session.
    public func establish() throws -> NTSKESession {
        var session: NTSKESession?
        try converse(request: NTSKERecordParser.clientRequest()) { ssl, fingerprint, records in
            let response = try NTSKEResponse(records: records, server: server.description, limits: limits)
            let c2s = try exportKey(ssl, direction: 0, aead: response.aeadAlgorithm)
            let s2c = try exportKey(ssl, direction: 1, aead: response.aeadAlgorithm)
            let ntp = NetworkEndpoint(host: response.ntpServer ?? server.host, port: response.ntpPort ?? 123)
            session = NTSKESession(keServer: server, ntpServer: ntp, aeadAlgorithm: response.aeadAlgorithm,
                                   c2sKey: c2s, s2cKey: s2c, cookies: response.cookies, certificateSHA256: fingerprint)
        }
        guard let s = session else { throw NTSError(.negotiationFailed, "NTS-KE: \(server) produced no session") }
        return s
    }

    /// Sends raw request bytes over a verified NTS-KE connection and returns the parsed, not
    /// yet interpreted, response records. For probing a server with a non-standard request;
    /// the same TLS, certificate, ALPN and size checks apply.
    public func exchange(request: [UInt8]) throws -> [NTSKERecord] {
        try converse(request: request) { _, _, _ in }
    }

    /// One TLS conversation; `use` sees the live connection (for the exporter) and the records.
    @discardableResult
    private func converse(request: [UInt8], then use: (OpaquePointer, String, [NTSKERecord]) throws -> Void) throws -> [NTSKERecord] {
        let sock = try Sockets.open(server, datagram: false, timeoutSeconds: timeoutSeconds, what: "NTS-KE")
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw NTSError(.tls, "NTS-KE: cannot create a TLS context") }
        defer { SSL_CTX_free(ctx) }
        guard shim_SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 else { throw NTSError(.tls, "NTS-KE: this libssl cannot require TLS 1.3") }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        switch trust {
        case .systemStore:
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw NTSError(.tls, "NTS-KE: cannot load the system CA store") }
        case .caFile(let path):
            guard SSL_CTX_load_verify_file(ctx, path) == 1 else {
                ERR_clear_error()
                throw NTSError(.untrustedCertificate, "NTS-KE: cannot read CA file \(path); give a readable PEM file with the CA certificate(s)")
            }
        }
        let alpn: [UInt8] = [7] + Array("ntske/1".utf8)
        guard SSL_CTX_set_alpn_protos(ctx, alpn, UInt32(alpn.count)) == 0 else { throw NTSError(.tls, "NTS-KE: cannot set ALPN") }
        guard let ssl = SSL_new(ctx) else { throw NTSError(.tls, "NTS-KE: cannot create a TLS connection") }
        defer { SSL_free(ssl) }
        if server.isIPLiteral {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server.host) == 1 else { throw NTSError(.tls, "NTS-KE: bad IP literal \(server.host)") }
        } else {
            guard SSL_set1_host(ssl, server.host) == 1, shim_SSL_set_tlsext_host_name(ssl, server.host) == 1 else {
                throw NTSError(.tls, "NTS-KE: cannot set host name \(server.host) for verification")
            }
        }
        SSL_set_fd(ssl, sock.fd)
        if SSL_connect(ssl) != 1 {
            let verify = Int32(SSL_get_verify_result(ssl))
            let detail = OpenSSLError("handshake failed").message
            ERR_clear_error()
            if verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH {
                throw NTSError(.hostNameMismatch, "NTS-KE: the certificate of \(server) is not issued for '\(server.host)'; dial the name in its certificate")
            }
            if verify != X509_V_OK {
                let why = String(cString: X509_verify_cert_error_string(Int(verify)))
                let by: String
                switch trust { case .systemStore: by = "the system CA store"; case .caFile(let f): by = "CA file \(f)" }
                throw NTSError(.untrustedCertificate, "NTS-KE: server certificate for \(server.host) is not trusted by \(by) (\(why)); configure the CA that issued it")
            }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw NTSError(.timedOut, "NTS-KE: TLS handshake with \(server) timed out after \(timeoutSeconds) s")
            }
            throw NTSError(.tls, "NTS-KE: TLS 1.3 handshake with \(server) failed: \(detail)")
        }
        var proto: UnsafePointer<UInt8>?
        var protoLen: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &proto, &protoLen)
        let selected = proto.map { Array(UnsafeBufferPointer(start: $0, count: Int(protoLen))) } ?? []
        guard selected == Array("ntske/1".utf8) else {
            throw NTSError(.alpnNotNegotiated, "NTS-KE: \(server) did not select ALPN ntske/1 (\(selected.isEmpty ? "no ALPN" : String(decoding: selected, as: UTF8.self))); it is not an NTS-KE server")
        }
        let fingerprint = try peerFingerprint(ssl)
        try request.withUnsafeBytes { raw in
            guard SSL_write(ssl, raw.baseAddress, Int32(raw.count)) == Int32(raw.count) else {
                throw NTSError(.tls, "NTS-KE: cannot send the request to \(server)")
            }
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let records = try NTSKERecordParser.parseMessage(buffer, limits: limits) {
                try use(ssl, fingerprint, records)
                _ = SSL_shutdown(ssl)
                return records
            }
            let room = min(chunk.count, limits.maxMessageBytes + 1 - buffer.count)
            let n = SSL_read(ssl, &chunk, Int32(room))
            if n <= 0 {
                let err = SSL_get_error(ssl, n)
                ERR_clear_error()
                if err == SSL_ERROR_ZERO_RETURN || buffer.isEmpty && err == SSL_ERROR_SYSCALL && errno == 0 {
                    throw NTSError(.malformed, "NTS-KE: \(server) closed the connection after \(buffer.count) bytes, before End of Message")
                }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw NTSError(.timedOut, "NTS-KE: no complete response from \(server) within \(timeoutSeconds) s")
                }
                throw NTSError(.tls, "NTS-KE: reading from \(server) failed after \(buffer.count) bytes (TLS error \(err))")
            }
            buffer += chunk[0..<Int(n)]
        }
    }

    private func exportKey(_ ssl: OpaquePointer, direction: UInt8, aead: UInt16) throws -> [UInt8] {
        let label = Array("EXPORTER-network-time-security".utf8)
        let context: [UInt8] = [0, 0, UInt8(aead >> 8), UInt8(aead & 0xff), direction]
        var key = [UInt8](repeating: 0, count: AESSIVCMAC256.keyByteCount)
        let ok = label.withUnsafeBufferPointer { l in
            SSL_export_keying_material(ssl, &key, key.count, UnsafeRawPointer(l.baseAddress!).assumingMemoryBound(to: CChar.self), l.count, context, context.count, 1)
        }
        guard ok == 1 else { throw NTSError(.tls, "NTS-KE: TLS exporter failed for \(server)") }
        return key
    }

    private func peerFingerprint(_ ssl: OpaquePointer) throws -> String {
        guard let cert = SSL_get1_peer_certificate(ssl) else { throw NTSError(.untrustedCertificate, "NTS-KE: \(server) presented no certificate") }
        defer { X509_free(cert) }
        var md = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        guard X509_digest(cert, EVP_sha256(), &md, &len) == 1, len == 32 else { throw NTSError(.tls, "NTS-KE: cannot hash the certificate of \(server)") }
        return Hex.encode(md)
    }
}
