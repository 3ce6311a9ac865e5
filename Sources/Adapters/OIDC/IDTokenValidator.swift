import EvidenceCore
import Foundation

/// A compact JWS split and decoded, nothing verified yet. Bounded: at most 16 KiB of token,
/// shallow JSON, short strings.
public struct CompactJWS: Sendable {
    public let header: JSONValue
    public let payload: JSONValue
    public let signingInput: [UInt8]
    public let signature: [UInt8]

    public static let maxTokenBytes = 16 << 10
    static let limits = JSONLimits(maxBytes: maxTokenBytes, maxDepth: 8, maxStringBytes: 8 << 10, maxContainerCount: 256)

    public init(_ token: String) throws {
        let t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.utf8.count <= Self.maxTokenBytes else { throw OIDCError(.malformedToken, "token of \(t.utf8.count) bytes exceeds the \(Self.maxTokenBytes)-byte bound") }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw OIDCError(.malformedToken, parts.count == 5 ? "token is a JWE (5 parts); encrypted ID tokens are not accepted" : "a compact JWS has 3 dot-separated parts, this has \(parts.count)")
        }
        guard let h = Base64URL.decode(parts[0], maxBytes: 4096), let p = Base64URL.decode(parts[1], maxBytes: Self.maxTokenBytes),
              let s = Base64URL.decode(parts[2], maxBytes: 1024) else {
            throw OIDCError(.malformedToken, "a token part is not unpadded base64url")
        }
        do {
            header = try JSONParser.parse(h, limits: Self.limits)
            payload = try JSONParser.parse(p, limits: Self.limits)
        } catch { throw OIDCError(.malformedToken, "token header or payload is not valid JSON: \(error)") }
        guard header.objectValue != nil, payload.objectValue != nil else { throw OIDCError(.malformedToken, "token header and payload must be JSON objects") }
        signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        signature = s
    }
}

/// Where the validator finds a provider's keys: a cached `jwks_uri` or a fixed set.
public protocol JSONWebKeySource: Sendable {
    /// Keys that may have signed a token with this `kid` and algorithm. A source backed by a
    /// URL may refetch once (rate-limited) when no key has the `kid`.
    func candidates(kid: String?, alg: JWSAlgorithm) async throws -> [JSONWebKey]
}

/// A fixed key set, e.g. read from a file for offline checks.
public struct StaticKeySource: JSONWebKeySource {
    public let keys: JSONWebKeySet
    public init(_ keys: JSONWebKeySet) { self.keys = keys }
    public func candidates(kid: String?, alg: JWSAlgorithm) async throws -> [JSONWebKey] { keys.candidates(kid: kid, alg: alg) }
}

/// The verified claims of an ID token.
public struct IDTokenClaims: Sendable {
    public let issuer: String
    public let subject: String
    public let audiences: [String]
    public let expiresAt: Date
    public let issuedAt: Date
    public let authTime: Date?
    public let nonce: String?
    public let acr: String?
    public let amr: [String]
    public let algorithm: JWSAlgorithm
    public let keyID: String?
    /// Every claim as sent.
    public let all: JSONValue
}

/// ID token validation (OpenID Connect Core §3.1.3.7) with an algorithm allow-list.
///
/// Guarantees: returns claims only when the signature verifies with a provider key of the
/// right type, `iss` equals the configured issuer exactly, `aud` contains the client id, `azp`
/// is present and equal to the client id whenever there are several audiences (and equal to it
/// whenever present), `exp` is in the future and `iat`/`nbf` not in the future (both within
/// `clockSkew`, at most 5 minutes), and `nonce` equals the expected one when one is expected.
/// Refuses `none`, every HMAC algorithm and every algorithm not in `allowed`.
public struct IDTokenValidator: Sendable {
    public let issuer: String
    public let clientID: String
    public let keys: any JSONWebKeySource
    public let allowed: Set<JWSAlgorithm>
    public let clockSkew: TimeInterval

    public init(issuer: String, clientID: String, keys: any JSONWebKeySource,
                allowed: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases), clockSkew: TimeInterval = 60) throws {
        guard (0...300).contains(clockSkew) else { throw OIDCError(.configuration, "clock skew of \(clockSkew) s refused; allow at most 300 s") }
        self.issuer = issuer; self.clientID = clientID; self.keys = keys; self.allowed = allowed; self.clockSkew = clockSkew
    }

    public func validate(_ token: String, nonce expectedNonce: String?, now: Date) async throws -> IDTokenClaims {
        let jws = try CompactJWS(token)
        let h = jws.header, c = jws.payload
        guard let algName = h["alg"]?.stringValue else { throw OIDCError(.malformedToken, "token header has no 'alg'") }
        guard let alg = JWSAlgorithm(rawValue: algName), allowed.contains(alg) else {
            throw OIDCError(.algorithmRefused, "alg '\(algName.prefix(20))' is not allowed; accepted: \(allowed.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        if h["crit"] != nil { throw OIDCError(.malformedToken, "token header has 'crit' extensions, which this relying party does not understand") }
        let kid = h["kid"]?.stringValue
        let candidates = try await keys.candidates(kid: kid, alg: alg)
        guard !candidates.isEmpty else {
            throw OIDCError(.unknownKey, "no \(alg.rawValue) key" + (kid.map { " with kid '\($0.prefix(80))'" } ?? "") + " in the provider's key set; if the provider rotated keys, its JWKS does not show the new one yet")
        }
        guard candidates.prefix(8).contains(where: { $0.verifies(jws.signature, over: jws.signingInput, alg: alg) }) else {
            throw OIDCError(.badSignature, "the \(alg.rawValue) signature does not verify with key '\(kid ?? "?")'")
        }
        // Claims.
        guard let iss = c["iss"]?.stringValue else { throw OIDCError(.issuerMismatch, "token has no 'iss'") }
        guard iss == issuer else { throw OIDCError(.issuerMismatch, "iss is '\(iss.prefix(200))', expected '\(issuer)'") }
        guard let sub = c["sub"]?.stringValue, !sub.isEmpty, sub.utf8.count <= 255 else { throw OIDCError(.malformedToken, "'sub' is missing or longer than 255 bytes") }
        let auds: [String]
        if let a = c["aud"]?.stringValue { auds = [a] } else if let arr = c["aud"]?.arrayValue, arr.allSatisfy({ $0.stringValue != nil }) {
            auds = arr.compactMap(\.stringValue)
        } else { throw OIDCError(.audienceMismatch, "'aud' is missing or not a string / array of strings") }
        guard auds.contains(clientID) else { throw OIDCError(.audienceMismatch, "aud \(auds) does not contain this client '\(clientID)'") }
        let azp = c["azp"]?.stringValue
        if auds.count > 1 && azp == nil { throw OIDCError(.authorizedPartyMismatch, "token has \(auds.count) audiences but no 'azp'") }
        if let azp, azp != clientID { throw OIDCError(.authorizedPartyMismatch, "azp is '\(azp.prefix(100))', not this client '\(clientID)'") }
        func time(_ k: String) throws -> Date? {
            guard let v = c[k] else { return nil }
            guard let n = v.numberValue, n.isFinite, n >= 0, n < 1e11 else { throw OIDCError(.malformedToken, "'\(k)' is not a NumericDate") }
            return Date(timeIntervalSince1970: n)
        }
        guard let exp = try time("exp") else { throw OIDCError(.expired, "token has no 'exp'") }
        guard let iat = try time("iat") else { throw OIDCError(.malformedToken, "token has no 'iat'") }
        guard now < exp + clockSkew else {
            throw OIDCError(.expired, "token expired at \(Timestamp.format(exp)) (now \(Timestamp.format(now)), skew \(Int(clockSkew)) s)")
        }
        if let nbf = try time("nbf"), nbf > now + clockSkew {
            throw OIDCError(.notYetValid, "token not valid before \(Timestamp.format(nbf)) (now \(Timestamp.format(now)))")
        }
        guard iat <= now + clockSkew else {
            throw OIDCError(.notYetValid, "token issued in the future at \(Timestamp.format(iat)) (now \(Timestamp.format(now))); check both clocks")
        }
        let nonce = c["nonce"]?.stringValue
        if let expectedNonce {
            guard let nonce else { throw OIDCError(.nonceMismatch, "token has no nonce; the login request sent one") }
            guard nonce == expectedNonce else { throw OIDCError(.nonceMismatch, "nonce does not match the one of this login") }
        }
        return IDTokenClaims(issuer: iss, subject: sub, audiences: auds, expiresAt: exp, issuedAt: iat, authTime: try time("auth_time"),
                             nonce: nonce, acr: c["acr"]?.stringValue, amr: (c["amr"]?.arrayValue ?? []).compactMap(\.stringValue),
                             algorithm: alg, keyID: kid, all: c)
    }
}
