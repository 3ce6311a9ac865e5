import EvidenceCore
import EvidenceNTS
import Foundation
import Testing

/// What every `TimeSource` must satisfy (the seam's contract in TimeSeams.swift): a finite,
/// positive bound that covers the reference clock, a `time` that differs from `localTime` by
/// no more than the claimed offset, and authenticated witnesses whose own bounds are no
/// tighter than the combined one allows. A source that dropped its bound fails here.
enum TimeSourceConformance {
    static func check(_ source: any TimeSource, reference: () -> Date, authenticated: Bool) async throws {
        let before = reference()
        let s = try await source.sample()
        let after = reference()
        #expect(s.boundSeconds.isFinite && s.boundSeconds > 0, "bound must be a positive number, got \(s.boundSeconds)")
        // The reference clock read before and after must be reachable within the bound.
        #expect(s.time.timeIntervalSince(before) >= -s.boundSeconds - 0.01)
        #expect(after.timeIntervalSince(s.time) >= -s.boundSeconds - 0.01)
        if authenticated {
            #expect(!s.witnesses.isEmpty, "an authenticated source names who vouched")
            for w in s.witnesses {
                #expect(w.certificateSHA256?.count == 64, "witness \(w.server) lacks its certificate SHA-256")
                #expect(w.boundSeconds >= w.delaySeconds / 2, "witness \(w.server) claims a bound tighter than half its delay")
                // The combined interval lies inside every witness's interval.
                let offset = s.time.timeIntervalSince(s.localTime)
                #expect(offset - s.boundSeconds >= w.offsetSeconds - w.boundSeconds - 1e-3)
                #expect(offset + s.boundSeconds <= w.offsetSeconds + w.boundSeconds + 1e-3)
            }
        }
    }
}

@Suite("TimeSource conformance", .timeLimit(.minutes(1)))
struct TimeSourceConformanceTests {
    @Test func ntsTimeSourceAgainstChronyConforms() async throws {
        let a = try ChronyNTSServer(), b = try ChronyNTSServer()
        let cfg = { (s: ChronyNTSServer) in NTSServerConfiguration(keServer: NetworkEndpoint(host: "127.0.0.1", port: s.kePort), trust: .caFile(s.caFile)) }
        try await TimeSourceConformance.check(NTSTimeSource(servers: [cfg(a), cfg(b)]), reference: { Date() }, authenticated: true)
    }
}
