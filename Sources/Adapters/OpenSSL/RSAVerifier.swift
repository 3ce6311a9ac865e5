import COpenSSL
import EvidenceCore

/// RSA signature verification with SHA-256 (libcrypto), from the raw public modulus and
/// exponent as a JWK (`n`, `e`) or a COSE key (-1, -2) carries them.
///
/// Guarantees: returns true only for a signature that verifies under the key with the chosen
/// padding: PKCS#1 v1.5 (JWS RS256, COSE -257) or PSS with MGF1-SHA-256 and a 32-byte salt
/// (JWS PS256, RFC 7518 §3.5).
/// Refuses (init throws): a modulus under 2048 or over 8192 bits, an even modulus, or an
/// exponent that is not odd and > 1 (and ≤ 64 bits).
public final class RSAVerifier: @unchecked Sendable {
    // @unchecked: `key` is created in init and never mutated; EVP verification with a fresh
    // EVP_MD_CTX per call is thread-safe in OpenSSL 3.
    public enum Padding: Sendable { case pkcs1v15, pss }

    private let key: OpaquePointer
    public let modulusBits: Int

    /// - Parameters: modulus and exponent as unsigned big-endian bytes (leading zeros allowed).
    public init(modulus: [UInt8], exponent: [UInt8]) throws {
        let n = Array(modulus.drop(while: { $0 == 0 }))
        let e = Array(exponent.drop(while: { $0 == 0 }))
        guard (256...1024).contains(n.count), n.last! & 1 == 1 else {
            throw EvidenceError(.malformedInput, "RSA modulus of \(n.count * 8) bits refused: it must be odd and 2048 to 8192 bits")
        }
        guard (1...8).contains(e.count), e.last! & 1 == 1, !(e.count == 1 && e[0] == 1) else {
            throw EvidenceError(.malformedInput, "RSA public exponent refused: it must be odd, greater than 1 and at most 64 bits")
        }
        guard let k = Self.publicKey(n: n, e: e) else { throw OpenSSLError("libcrypto refused the RSA public key") }
        key = k
        modulusBits = n.count * 8
    }

    deinit { EVP_PKEY_free(key) }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], padding: Padding) -> Bool {
        guard signature.count == (modulusBits + 7) / 8, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx); ERR_clear_error() }
        let ok: Bool = OSSL_SIGNATURE_PARAM_PAD_MODE.withCString { padKey in
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN.withCString { saltKey in
                OSSL_SIGNATURE_PARAM_MGF1_DIGEST.withCString { mgfKey in
                    let mode = padding == .pss ? OSSL_PKEY_RSA_PAD_MODE_PSS : OSSL_PKEY_RSA_PAD_MODE_PKCSV15
                    return mode.withCString { modeValue in
                        "32".withCString { salt in
                            "SHA256".withCString { mgf in
                                var params: [OSSL_PARAM] = [OSSL_PARAM_construct_utf8_string(padKey, UnsafeMutablePointer(mutating: modeValue), 0)]
                                if padding == .pss {
                                    params.append(OSSL_PARAM_construct_utf8_string(saltKey, UnsafeMutablePointer(mutating: salt), 0))
                                    params.append(OSSL_PARAM_construct_utf8_string(mgfKey, UnsafeMutablePointer(mutating: mgf), 0))
                                }
                                params.append(OSSL_PARAM_construct_end())
                                guard EVP_DigestVerifyInit_ex(ctx, nil, "SHA256", nil, nil, key, &params) == 1 else { return false }
                                return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
                            }
                        }
                    }
                }
            }
        }
        return ok
    }

    /// OSSL_PARAM big numbers are native-endian unsigned integers.
    private static func nativeEndian(_ bigEndian: [UInt8]) -> [UInt8] {
        UInt16(1).littleEndian == 1 ? Array(bigEndian.reversed()) : bigEndian
    }

    private static func publicKey(n: [UInt8], e: [UInt8]) -> OpaquePointer? {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_fromdata_init(ctx) == 1 else { return nil }
        var nn = nativeEndian(n), ee = nativeEndian(e)
        return OSSL_PKEY_PARAM_RSA_N.withCString { nKey in
            OSSL_PKEY_PARAM_RSA_E.withCString { eKey in
                nn.withUnsafeMutableBytes { np in
                    ee.withUnsafeMutableBytes { ep in
                        var params = [
                            OSSL_PARAM_construct_BN(nKey, np.baseAddress!.assumingMemoryBound(to: UInt8.self), np.count),
                            OSSL_PARAM_construct_BN(eKey, ep.baseAddress!.assumingMemoryBound(to: UInt8.self), ep.count),
                            OSSL_PARAM_construct_end(),
                        ]
                        var out: OpaquePointer?
                        guard EVP_PKEY_fromdata(ctx, &out, Int32(OSSL_KEYMGMT_SELECT_PUBLIC_KEY), &params) == 1 else { ERR_clear_error(); return nil }
                        return out
                    }
                }
            }
        }
    }
}
