import COpenSSL
import EvidenceCore

/// AES-SIV with CMAC and a 256-bit key (RFC 5297; `AEAD_AES_SIV_CMAC_256`, NTS AEAD id 15).
///
/// Guarantees: `seal` returns `SIV ‖ C` exactly as RFC 5297 §2.6 and RFC 8915 define it;
/// `open` returns the plaintext only when the 16-byte SIV authenticates every associated-data
/// string and the ciphertext, comparing in constant time. Associated data is a *list* of
/// strings fed to S2V in order; NTS passes `[packet bytes before the authenticator, nonce]`
/// (the nonce is the last string, RFC 5297 §3).
///
/// Works around OpenSSL 3.0's refusal to process an empty plaintext (openssl#17268): for an
/// empty message the SIV is computed here with S2V over AES-CMAC, which is all an empty
/// RFC 5297 message is. Everything else goes through libcrypto's `AES-128-SIV`.
///
/// Refuses: keys other than 32 bytes, more than 126 associated-data strings (RFC 5297 §7),
/// sealed inputs shorter than the 16-byte SIV.
public struct AESSIVCMAC256: Sendable {
    public static let keyByteCount = 32
    public static let tagByteCount = 16
    /// RFC 5297 §7: S2V takes at most 127 strings, the plaintext being the last one.
    public static let maxAssociatedDataCount = 126

    private let key: [UInt8]

    public init(key: [UInt8]) throws {
        guard key.count == Self.keyByteCount else {
            throw OpenSSLError("AES-SIV-CMAC-256 needs a 32-byte key, not \(key.count) bytes")
        }
        self.key = key
    }

    /// Encrypts and authenticates; returns `SIV ‖ ciphertext`.
    public func seal(_ plaintext: [UInt8], associatedData: [[UInt8]]) throws -> [UInt8] {
        try checkCount(associatedData)
        if plaintext.isEmpty { return try s2vForEmptyPlaintext(associatedData) }
        guard let cipher = EVP_CIPHER_fetch(nil, "AES-128-SIV", nil) else { throw OpenSSLError("AES-128-SIV is not available in this libcrypto") }
        defer { EVP_CIPHER_free(cipher) }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSLError("out of memory") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_EncryptInit_ex2(ctx, cipher, key, nil, nil) == 1 else { throw OpenSSLError("AES-SIV init failed") }
        var n: Int32 = 0
        for ad in associatedData {
            guard EVP_EncryptUpdate(ctx, nil, &n, ad.isEmpty ? [0] : ad, Int32(ad.count)) == 1 else { throw OpenSSLError("AES-SIV associated data rejected") }
        }
        var out = [UInt8](repeating: 0, count: Self.tagByteCount + plaintext.count)
        let ok = out.withUnsafeMutableBufferPointer { buf -> Bool in
            var m: Int32 = 0
            guard EVP_EncryptUpdate(ctx, buf.baseAddress! + Self.tagByteCount, &m, plaintext, Int32(plaintext.count)) == 1,
                  Int(m) == plaintext.count else { return false }
            var f: Int32 = 0
            guard EVP_EncryptFinal_ex(ctx, buf.baseAddress! + Self.tagByteCount + Int(m), &f) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagByteCount), buf.baseAddress!) == 1
        }
        guard ok else { throw OpenSSLError("AES-SIV encryption failed") }
        return out
    }

    /// Checks the SIV and decrypts; throws if anything was altered.
    public func open(_ sealed: [UInt8], associatedData: [[UInt8]]) throws -> [UInt8] {
        try checkCount(associatedData)
        guard sealed.count >= Self.tagByteCount else {
            throw OpenSSLError("AES-SIV input of \(sealed.count) bytes is shorter than its 16-byte SIV")
        }
        let tag = Array(sealed.prefix(Self.tagByteCount))
        let body = Array(sealed.dropFirst(Self.tagByteCount))
        if body.isEmpty {
            let expected = try s2vForEmptyPlaintext(associatedData)
            guard CRYPTO_memcmp(expected, tag, Self.tagByteCount) == 0 else {
                throw OpenSSLError("AES-SIV tag does not authenticate the message")
            }
            return []
        }
        guard let cipher = EVP_CIPHER_fetch(nil, "AES-128-SIV", nil) else { throw OpenSSLError("AES-128-SIV is not available in this libcrypto") }
        defer { EVP_CIPHER_free(cipher) }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSLError("out of memory") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_DecryptInit_ex2(ctx, cipher, key, nil, nil) == 1 else { throw OpenSSLError("AES-SIV init failed") }
        var tagCopy = tag
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagByteCount), &tagCopy) == 1 else { throw OpenSSLError("AES-SIV tag rejected") }
        var n: Int32 = 0
        for ad in associatedData {
            guard EVP_DecryptUpdate(ctx, nil, &n, ad.isEmpty ? [0] : ad, Int32(ad.count)) == 1 else { throw OpenSSLError("AES-SIV associated data rejected") }
        }
        var out = [UInt8](repeating: 0, count: body.count)
        var m: Int32 = 0
        guard EVP_DecryptUpdate(ctx, &out, &m, body, Int32(body.count)) == 1, Int(m) == body.count else {
            ERR_clear_error()
            throw OpenSSLError("AES-SIV tag does not authenticate the message")
        }
        return out
    }

    private func checkCount(_ associatedData: [[UInt8]]) throws {
        guard associatedData.count <= Self.maxAssociatedDataCount else {
            throw OpenSSLError("AES-SIV takes at most \(Self.maxAssociatedDataCount) associated-data strings, not \(associatedData.count)")
        }
    }

    // MARK: S2V (RFC 5297 §2.4) for the empty plaintext that OpenSSL 3.0 refuses.

    private func s2vForEmptyPlaintext(_ strings: [[UInt8]]) throws -> [UInt8] {
        let k1 = Array(key.prefix(16))
        var d = try cmac(k1, [UInt8](repeating: 0, count: 16))
        for s in strings {
            let c = try cmac(k1, s)
            d = zip(Self.double(d), c).map { $0 ^ $1 }
        }
        // The plaintext is the last S2V string; empty is shorter than 16 bytes, so
        // T = dbl(D) xor pad(""), where pad("") = 0x80 followed by zeros.
        d = Self.double(d)
        d[0] ^= 0x80
        return try cmac(k1, d)
    }

    private func cmac(_ k: [UInt8], _ data: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var len = 0
        let r = EVP_Q_mac(nil, "CMAC", nil, "AES-128-CBC", nil, k, k.count, data.isEmpty ? [0] : data, data.count, &out, 16, &len)
        guard r != nil, len == 16 else { throw OpenSSLError("AES-CMAC failed") }
        return out
    }

    /// Multiplication by x in GF(2^128) with the RFC 5297 polynomial.
    private static func double(_ b: [UInt8]) -> [UInt8] {
        var r = [UInt8](repeating: 0, count: 16)
        for i in 0..<15 { r[i] = (b[i] << 1) | (b[i + 1] >> 7) }
        r[15] = b[15] << 1
        if b[0] & 0x80 != 0 { r[15] ^= 0x87 }
        return r
    }
}
