import Foundation
import NIS2Reporting
import EvidenceCore
let cases = try ClassificationFile.parse(try Data(contentsOf: URL(fileURLWithPath: CommandLine.arguments[1])))
for c in cases {
    do {
        let r = try SeverityEngine().classify(c.entity, facts: c.facts, caseID: c.id)
        let exp = c.expected!
        let ok = r.isSignificant == exp["significant"]?.boolValue && Set(r.criterionLabels) == Set((exp["criteria"]?.arrayValue ?? []).compactMap(\.stringValue))
        print(ok ? "OK  " : "FAIL", r.resultJSON.text())
    } catch { print("ERR", c.id, error) }
}
