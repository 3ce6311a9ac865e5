import EvidenceCore
import Foundation
import NIS2Reporting

/// `nis2ctl classify FILE [--json] [--check]`: the severity engine over a file in the rule
/// book's test-case format.
enum ClassifyCommands {
    static let all: [CommandSpec] = [classify]

    static let classify = CommandSpec(
        path: ["classify"],
        summary: "decide significance under IR 2024/2690 for a file of cases",
        help: """
        usage: nis2ctl classify FILE [--json] [--check]

        Reads FILE in the test-case format of the rule book (section 0: schemaVersion 1, cases
        with id, entityType and facts) and decides each case from its facts; any 'expected'
        block is ignored unless --check is given.

          --json    print {"results":[{"id","significant","criteria","deadlines","explanations"}]}
                    with timestamps in UTC (Z); deadlines is null when not significant
          --check   compare each result with the case's 'expected' block (significance,
                    criteria as a set, deadlines as instants); exit 1 on any difference

        exit status: 0 done, 1 a --check difference, 2 the file or a case is invalid (the
        message names the case and the field)
        """,
        flags: ["json", "check"]
    ) { args in
        guard args.positional.count == 1 else { throw UsageError("give exactly one FILE") }
        let path = args.positional[0]
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
        guard data.count <= ClassificationFile.maxBytes else { throw UsageError("\(path) is larger than \(ClassificationFile.maxBytes) bytes") }
        let results: [Classification]
        let cases: [ClassificationCase]
        do {
            cases = try ClassificationFile.parse(data)
            let engine = SeverityEngine()
            results = try cases.map { try engine.classify($0.entity, facts: $0.facts, caseID: $0.id) }
        } catch let e as ReportingError {
            Console.err("classify \(path): \(e.description)")
            return .usage
        }
        if args.flag("json") {
            Console.out(OrderedJSON.object([("results", .array(results.map(\.resultJSON)))]).text())
        } else {
            printTable(results)
        }
        guard args.flag("check") else { return .success }
        var differences = 0
        for (c, r) in zip(cases, results) {
            if let why = ExpectedResult.difference(c.expected, r) { Console.err("check \(c.id): \(why)"); differences += 1 }
        }
        if differences > 0 { Console.err("check: \(differences) of \(cases.count) cases differ from 'expected'") }
        return differences == 0 ? .success : .verificationFailed
    }

    static func printTable(_ results: [Classification]) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
        Console.out(pad("case", 10) + pad("significant", 13) + pad("early warning", 22) + pad("notification", 22) + pad("final report (latest)", 22) + "criteria")
        for r in results {
            let sig: String
            switch r.verdict { case .significant: sig = "yes"; case .notSignificant: sig = "no"; case .needsHumanDecision: sig = "ask a person" }
            let d = r.deadlines
            Console.out(pad(r.caseID ?? "-", 10) + pad(sig, 13) + pad(d.map { Timestamp.format($0.earlyWarning) } ?? "-", 22)
                        + pad(d.map { Timestamp.format($0.incidentNotification) } ?? "-", 22)
                        + pad(d.map { Timestamp.format($0.finalReportIfNotificationSubmittedAtDeadline) } ?? "-", 22)
                        + (r.criterionLabels.isEmpty ? "-" : r.criterionLabels.joined(separator: ", ")))
            for line in r.explanationLines { Console.out("    " + line) }
        }
    }
}

/// Compares a result with a case's `expected` block, as the rule book says: significance,
/// criteria as a set, deadlines as instants.
enum ExpectedResult {
    static func difference(_ expected: JSONValue?, _ r: Classification) -> String? {
        guard let e = expected else { return "the case has no 'expected' block" }
        if e["significant"]?.boolValue != r.isSignificant { return "significant is \(r.isSignificant), expected \(e["significant"].map { "\($0)" } ?? "nothing")" }
        let want = Set((e["criteria"]?.arrayValue ?? []).compactMap(\.stringValue))
        if want != Set(r.criterionLabels) { return "criteria \(r.criterionLabels.sorted()), expected \(want.sorted())" }
        guard let d = e["deadlines"], d != .null else { return r.deadlines == nil ? nil : "deadlines given, expected null" }
        guard let got = r.deadlines else { return "no deadlines, expected some" }
        func same(_ s: String?, _ t: Date) -> Bool { s.flatMap { try? Timestamp.parse($0) } == t }
        if !same(d["earlyWarning"]?.stringValue, got.earlyWarning) { return "early warning \(Timestamp.format(got.earlyWarning)) differs" }
        if !same(d["incidentNotification"]?.stringValue, got.incidentNotification) { return "notification \(Timestamp.format(got.incidentNotification)) differs" }
        if !same(d["finalReport"]?["latestIfNotificationSubmittedAtDeadline"]?.stringValue, got.finalReportIfNotificationSubmittedAtDeadline) {
            return "final report \(Timestamp.format(got.finalReportIfNotificationSubmittedAtDeadline)) differs"
        }
        return nil
    }
}
