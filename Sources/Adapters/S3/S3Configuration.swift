import EvidenceCore
import Foundation

/// Where and how the S3 WORM store talks to its bucket.
///
/// Guarantees: the endpoint, bucket and key prefix are checked at init; credentials are held
/// only as `S3Credentials` (never printed). Refuses: an endpoint that is not http(s) with a
/// host, a bucket name that S3 would reject, a prefix that is not a valid object-key path.
public struct S3Configuration: Sendable {
    /// How the bucket appears in the URL.
    public enum Addressing: Sendable {
        /// `https://endpoint/bucket/key` (SeaweedFS, MinIO, most on-premises services).
        case pathStyle
        /// `https://bucket.endpoint/key` (AWS default).
        case virtualHosted
    }

    /// What to do when the bucket has no Object Lock.
    public enum LockRequirement: Sendable {
        /// Refuse to open the store (the default).
        case requireObjectLock
        /// Run anyway; the store then reports `.tamperEvidentOnly`.
        case allowTamperEvidentOnly
    }

    public var endpoint: URL
    public var bucket: String
    /// Key prefix inside the bucket ("" or segments ending without '/'), e.g. "tenants/acme".
    public var prefix: String
    public var region: String
    public var addressing: Addressing
    public var credentials: S3Credentials
    public var lockRequirement: LockRequirement
    public var retry: S3RetryPolicy
    /// Per-request timeout (seconds).
    public var requestTimeout: TimeInterval
    /// Objects at least this large go through multipart upload in `uploadFile`.
    public var multipartPartSize: Int
    /// Parts in flight at once during a multipart upload. With `LoopbackHTTPTransport` parts
    /// are sent from the file and memory does not grow with this; with URLSession each part in
    /// flight is held in memory (about partSize x this).
    public var multipartConcurrency: Int

    public init(endpoint: URL, bucket: String, prefix: String = "", region: String = "us-east-1",
                addressing: Addressing = .pathStyle, credentials: S3Credentials,
                lockRequirement: LockRequirement = .requireObjectLock, retry: S3RetryPolicy = .init(),
                requestTimeout: TimeInterval = 60, multipartPartSize: Int = 16 << 20, multipartConcurrency: Int = 4) throws {
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https", endpoint.host != nil else {
            throw EvidenceError(.malformedInput, "S3 endpoint '\(endpoint.absoluteString)' must be an http:// or https:// URL with a host")
        }
        let b = Array(bucket.utf8)
        guard (3...63).contains(b.count), b.allSatisfy({ (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d || $0 == 0x2e }),
              b.first != 0x2d, b.last != 0x2d else {
            throw EvidenceError(.malformedInput, "bucket name '\(bucket.prefix(80))' is not a valid S3 bucket name: 3-63 characters of a-z 0-9 . -")
        }
        if !prefix.isEmpty { try ObjectKey.validate(prefix) }
        guard (5 << 20...5 << 30).contains(multipartPartSize) else {
            throw EvidenceError(.malformedInput, "multipart part size \(multipartPartSize) is outside S3's 5 MiB...5 GiB range")
        }
        guard (1...64).contains(multipartConcurrency) else {
            throw EvidenceError(.malformedInput, "multipart concurrency \(multipartConcurrency) must be 1...64")
        }
        self.endpoint = endpoint; self.bucket = bucket; self.prefix = prefix; self.region = region
        self.addressing = addressing; self.credentials = credentials; self.lockRequirement = lockRequirement
        self.retry = retry; self.requestTimeout = requestTimeout
        self.multipartPartSize = multipartPartSize; self.multipartConcurrency = multipartConcurrency
    }

    /// The full object key in the bucket for a store key.
    func objectKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix)/\(key)" }
}

/// Retries with exponential backoff and full jitter on 5xx, SlowDown/throttling and network
/// errors. Never retries a 4xx other than 408/429 and S3's RequestTimeout.
public struct S3RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    /// Returns a number in [0, 1); injected so tests can make backoff deterministic.
    public var random: @Sendable () -> Double

    public init(maxAttempts: Int = 5, baseDelay: TimeInterval = 0.1, maxDelay: TimeInterval = 5,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.maxAttempts = max(1, maxAttempts); self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.random = random
    }

    /// Full jitter: uniform in [0, min(maxDelay, base * 2^attempt)).
    func delay(afterAttempt attempt: Int) -> TimeInterval {
        min(maxDelay, baseDelay * pow(2, Double(min(attempt, 30)))) * random()
    }
}
