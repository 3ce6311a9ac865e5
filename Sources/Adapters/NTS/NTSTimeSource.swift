import Dispatch
import EvidenceCore
import Foundation

/// One NTS server to ask.
public struct NTSServerConfiguration: Hashable, Sendable {
    /// The NTS-KE endpoint (default port 4460); its certificate must match `host`.
    public var keServer: NetworkEndpoint
    public var trust: NTSTrust
    /// Send NTP to this address instead of the one NTS-KE negotiated (port-forwarded setups,
    /// test relays). The reply must still authenticate under the negotiated keys.
    public var ntpOverride: NetworkEndpoint?

    public init(keServer: NetworkEndpoint, trust: NTSTrust = .systemStore, ntpOverride: NetworkEndpoint? = nil) {
        self.keServer = keServer; self.trust = trust; self.ntpOverride = ntpOverride
    }
}

/// Counters for one server, to observe cookie reuse and re-keying.
public struct NTSServerStatistics: Hashable, Sendable {
    public var keyExchanges = 0
    public var queries = 0
    public var authenticatedReplies = 0
    public var naks = 0
    public var cookiesHeld = 0
}

/// An NTS (RFC 8915) time source over one or more servers: a `TimeSource`.
///
/// Guarantees: every sample is built only from replies authenticated with NTS; its bound is
/// the half-width of the Marzullo intersection of the servers' `offset ± bound` intervals
/// (see `NTSMeasurement` for the per-server formula), widened by 15 ppm of drift since the
/// oldest measurement; `witnesses` are exactly the servers whose intervals contain that
/// intersection, with their certificate SHA-256. Cookies are held per server, each used once,
/// topped up with placeholders; a new NTS-KE runs when none are left or after an NTS NAK.
///
/// Refuses: to return a sample unless more than half of the configured servers agree (one
/// server: it must answer; three: two must agree, outvoting one falseticker).
///
/// What a sample proves: that these servers, authenticated to *us*, put our clock's error in
/// the bound. It is not evidence a third party can check (NTS keys are shared between client
/// and server); anchor checkpoints with an RFC 3161 token for that.
public actor NTSTimeSource: TimeSource {
    public nonisolated let servers: [NTSServerConfiguration]
    public nonisolated let options: NTSQueryOptions
    public nonisolated let keTimeoutSeconds: Double
    private let clock: any WallClock
    private var sessions: [Int: NTSKESession] = [:]
    private var stats: [Int: NTSServerStatistics] = [:]
    /// Blocking TLS and UDP calls run here, never on the cooperative pool.
    private let io = DispatchQueue(label: "nts.io")

    public init(servers: [NTSServerConfiguration], options: NTSQueryOptions = .init(), keTimeoutSeconds: Double = 5,
                clock: any WallClock = SystemWallClock()) {
        self.servers = servers; self.options = options; self.keTimeoutSeconds = keTimeoutSeconds; self.clock = clock
    }

    /// Per-server counters, in configuration order.
    public func statistics() -> [NTSServerStatistics] {
        servers.indices.map { i in
            var s = stats[i] ?? NTSServerStatistics()
            s.cookiesHeld = sessions[i]?.cookies.count ?? 0
            return s
        }
    }

    /// The cookies currently held for server `index` (for tests of cookie handling).
    public func heldCookies(server index: Int) -> [[UInt8]] { sessions[index]?.cookies ?? [] }

    /// One authenticated measurement from server `index`; runs NTS-KE when needed and once
    /// more after an NTS NAK.
    public func measure(server index: Int) async throws -> NTSMeasurement {
        let config = servers[index]
        var retriedAfterNAK = false
        while true {
            var session: NTSKESession
            if let s = sessions[index], !s.cookies.isEmpty {
                session = s
            } else {
                let ke = NTSKEClient(server: config.keServer, trust: config.trust, timeoutSeconds: keTimeoutSeconds, limits: options.cookieLimits)
                session = try await offload { try ke.establish() }
                stats[index, default: .init()].keyExchanges += 1
            }
            stats[index, default: .init()].queries += 1
            let (clock, options, target) = (self.clock, self.options, config.ntpOverride)
            let outcome: (Result<NTSMeasurement, any Error>, NTSKESession) = await offload { [session] in
                var s = session
                let r = Result { try NTSQuery.run(session: &s, sendTo: target, clock: clock, options: options) }
                return (r, s)
            }
            sessions[index] = outcome.1
            switch outcome.0 {
            case .success(let m):
                stats[index, default: .init()].authenticatedReplies += 1
                return m
            case .failure(let e as NTSError) where e.code == .ntsNAK:
                stats[index, default: .init()].naks += 1
                sessions[index] = nil
                if retriedAfterNAK { throw e }
                retriedAfterNAK = true
            case .failure(let e):
                throw e
            }
        }
    }

    /// Asks every server (in order), intersects their intervals and returns the agreed time.
    public func sample() async throws -> TimeSample {
        var measurements: [NTSMeasurement] = []
        var failures: [String] = []
        for i in servers.indices {
            do { measurements.append(try await measure(server: i)) } catch { failures.append("\(servers[i].keServer): \(error)") }
        }
        let needed = servers.count / 2 + 1
        guard measurements.count >= needed else {
            throw NTSError(.noMajority, "NTS: only \(measurements.count) of \(servers.count) servers answered with authenticated time (need \(needed)): " + failures.joined(separator: "; "))
        }
        let intervals = measurements.map { (lower: $0.offsetSeconds - $0.boundSeconds, upper: $0.offsetSeconds + $0.boundSeconds) }
        guard let agreement = Marzullo.intersect(intervals), agreement.members.count >= needed else {
            let list = measurements.map { "\($0.server) offset \($0.offsetSeconds) ± \($0.boundSeconds) s" }.joined(separator: ", ")
            throw NTSError(.noMajority, "NTS: no majority of servers agrees on the time (\(list)); check the servers' health before trusting any of them")
        }
        let members = agreement.members.map { measurements[$0] }
        let now = clock.now()
        let age = Monotonic.now() - (members.map(\.monotonicReceiveTime).min() ?? Monotonic.now())
        let bound = agreement.halfWidth + options.frequencyTolerance * max(0, age)
        let witnesses = members.map {
            TimeServerWitness(server: $0.server, certificateSHA256: $0.certificateSHA256, offsetSeconds: $0.offsetSeconds,
                              delaySeconds: $0.delaySeconds, boundSeconds: $0.boundSeconds)
        }
        return TimeSample(time: now.addingTimeInterval(agreement.midpoint), boundSeconds: bound, localTime: now,
                          witnesses: witnesses, source: "nts")
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in io.async { cont.resume(with: Result { try work() }) } }
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { cont in io.async { cont.resume(returning: work()) } }
    }
}
