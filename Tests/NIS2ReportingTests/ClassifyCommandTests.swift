import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// Runs the built `nis2ctl` on the public examples and checks its `--json` output.
/// The binary is taken from `NIS2CTL_PATH`, else from the build folder of this test bundle.
@Suite struct ClassifyCommandTests {
    static func binary() -> URL? {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return URL(fileURLWithPath: p) }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("nis2ctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        guard let exe = binary() else {
            throw ReportingError(.notFound, "nis2ctl binary not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, o, String(decoding: e, as: UTF8.self))
    }

    @Test func classifyJsonMatchesEveryPublicExample() throws {
        let r = try Self.run(["classify", Fixture.severityExamples.path, "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let results = try #require(try JSONParser.parse(r.stdout)["results"]?.arrayValue)
        let cases = try ClassificationFile.parse(try Data(contentsOf: Fixture.severityExamples))
        #expect(results.count == cases.count)
        for (res, c) in zip(results, cases) {
            #expect(res["id"]?.stringValue == c.id)
            #expect(Set(res.objectValue?.keys.map { $0 } ?? []) == ["id", "significant", "criteria", "deadlines", "explanations"], "case \(c.id): keys")
            let exp = try #require(c.expected)
            #expect(res["significant"] == exp["significant"], "case \(c.id)")
            #expect(Set(res["criteria"]?.arrayValue ?? []) == Set(exp["criteria"]?.arrayValue ?? []), "case \(c.id)")
            #expect((res["explanations"]?.arrayValue?.isEmpty) == false, "case \(c.id): explanations")
            guard let ed = exp["deadlines"], ed != .null else { #expect(res["deadlines"] == .null, "case \(c.id)"); continue }
            let rd = try #require(res["deadlines"])
            for path in [["earlyWarning"], ["incidentNotification"], ["finalReport", "latestIfNotificationSubmittedAtDeadline"]] {
                let got = path.reduce(Optional(rd)) { $0?[$1] }?.stringValue
                let want = path.reduce(Optional(ed)) { $0?[$1] }?.stringValue
                #expect(got?.hasSuffix("Z") == true, "case \(c.id): \(path) must be UTC")
                #expect(try got.map(Timestamp.parse) == want.map(Timestamp.parse), "case \(c.id): \(path)")
            }
        }
    }

    @Test func classifyCheckPassesOnThePublicExamples() throws {
        #expect(try Self.run(["classify", Fixture.severityExamples.path, "--check"]).status == 0)
    }

    @Test func classifyRefusesAFileInAnotherFormatWithExitStatus2() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("bad.json")
        try Data(#"{"schemaVersion":1,"cases":[{"id":"B-1","entityType":"plumber","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T00:00:00Z"}}]}"#.utf8).write(to: f)
        let r = try Self.run(["classify", f.path, "--json"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("B-1") && r.stderr.contains("entityType"))
    }
}
