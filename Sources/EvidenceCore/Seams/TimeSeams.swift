import Foundation

/// One server's contribution to a time sample.
public struct TimeServerWitness: Hashable, Sendable, Codable {
    public var server: String
    /// SHA-256 of the server's TLS certificate (NTS-KE), hex; nil for unauthenticated sources.
    public var certificateSHA256: String?
    public var offsetSeconds: Double
    public var delaySeconds: Double
    public var boundSeconds: Double
    public init(server: String, certificateSHA256: String?, offsetSeconds: Double, delaySeconds: Double, boundSeconds: Double) {
        self.server = server; self.certificateSHA256 = certificateSHA256
        self.offsetSeconds = offsetSeconds; self.delaySeconds = delaySeconds; self.boundSeconds = boundSeconds
    }
}

/// A time reading with an honest error bound.
///
/// What it proves: that *we* read our clock as `localTime` and the vouching servers put true
/// time within `time ± boundSeconds`. It is not third-party verifiable (NTS keys are shared
/// between client and server); for that, use a `TimestampAuthority`.
public struct TimeSample: Hashable, Sendable, Codable {
    /// Best estimate of true time.
    public var time: Date
    /// Half-width of the interval that contains true time.
    public var boundSeconds: Double
    /// The local clock at the moment of the sample.
    public var localTime: Date
    /// Servers whose intervals agreed; empty for the local clock alone.
    public var witnesses: [TimeServerWitness]
    /// `nts`, `local-clock`, ...: what kind of source produced it.
    public var source: String

    public init(time: Date, boundSeconds: Double, localTime: Date, witnesses: [TimeServerWitness], source: String) {
        self.time = time; self.boundSeconds = boundSeconds; self.localTime = localTime
        self.witnesses = witnesses; self.source = source
    }
}

/// An authenticated source of time (NTS in production).
///
/// Guarantees: a returned sample's bound covers true time if the vouching servers are honest;
/// a source that cannot authenticate throws instead of returning an unauthenticated sample,
/// and never drops the bound.
public protocol TimeSource: Sendable {
    func sample() async throws -> TimeSample
}

/// A third-party-verifiable time-stamp token over a digest.
public struct TimestampToken: Hashable, Sendable, Codable {
    /// `rfc3161` for RFC 3161 DER tokens.
    public var format: String
    /// The token bytes (for RFC 3161: the DER ContentInfo, verifiable with `openssl ts -verify`).
    public var token: [UInt8]
    public var imprint: Digest
    public var genTime: Date
    public var authority: String
    public init(format: String, token: [UInt8], imprint: Digest, genTime: Date, authority: String) {
        self.format = format; self.token = token; self.imprint = imprint; self.genTime = genTime; self.authority = authority
    }
}

/// A time-stamping authority (RFC 3161 TSA; a qualified TSP is one of these).
///
/// Guarantees: `timestamp` returns only a token that has been verified (status, imprint,
/// nonce, signature, chain to the configured trust anchor); `verify` checks a stored token
/// offline against the digest it claims.
public protocol TimestampAuthority: Sendable {
    func timestamp(_ digest: Digest) async throws -> TimestampToken
    func verify(_ token: TimestampToken, for digest: Digest) throws
}
