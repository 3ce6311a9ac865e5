import EvidenceCore
import EvidencePortals
import Foundation
import NIS2Reporting
import Testing

@Suite("National mappings", .timeLimit(.minutes(1)))
struct MappingTests {
    @Test func everyEUMappingIsMarkedInferredInCodeAndPayload() async throws {
        let draft = try await IncidentFixture().draft()
        for m in NationalMapping.all where m.id != "ch-ncsc" {
            #expect(m.isInferred, "\(m.id) must be inferred: the rule book has no verified field list")
            let doc = try PortalDocument(draft: draft, mapping: m)
            let text = String(decoding: doc.bytes, as: UTF8.self)
            #expect(text.contains("\"inferred\": true"), "\(m.id) payload must say inferred")
            #expect(text.contains("INFERRED mapping"))
        }
    }

    @Test func swissMappingCoversEveryItemArt15CSVRequires() {
        let mapped = Set(NationalMapping.chNCSC.fields.map(\.item))
        for item in ReportRequirements.required(.chISG) { #expect(mapped.contains(item), "ch-ncsc lacks \(item)") }
        #expect(NationalMapping.chNCSC.fields.allSatisfy { !$0.basis.isInferred })
    }

    @Test func euMappingRefusesTheSwissStage() throws {
        #expect(throws: PortalError.self) { _ = try NationalMapping.bsi.stageName(.chISG) }
        #expect(throws: PortalError.self) { _ = try NationalMapping.chNCSC.stageName(.earlyWarning) }
    }

    @Test func mappingNeverDropsADraftItem() async throws {
        let draft = try await IncidentFixture().draft(.notification)
        let doc = try PortalDocument(draft: draft, mapping: .anssi)
        guard case .object(let o) = try JSONParser.parse(doc.bytes) else { Issue.record("not an object"); return }
        let inFields = Set((o["fields"]?.arrayValue ?? []).compactMap { $0["item"]?.stringValue })
        let additional = Set((o["additional"]?.objectValue ?? [:]).keys)
        for k in draft.items.keys { #expect(inFields.contains(k.rawValue) || additional.contains(k.rawValue), "\(k) dropped") }
        #expect(inFields.isDisjoint(with: additional))
    }

    @Test func missingRequiredItemsAreListedNotFilled() async throws {
        let draft = try await IncidentFixture(narrative: false).draft()
        let doc = try PortalDocument(draft: draft, mapping: .certAT)
        guard case .object(let o) = try JSONParser.parse(doc.bytes) else { Issue.record("not an object"); return }
        let missing = (o["missing"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(missing.contains("reportingOrganisation"))
        #expect(o["complete"]?.boolValue == false)
        let filled = (o["fields"]?.arrayValue ?? []).compactMap { $0["item"]?.stringValue }
        #expect(!filled.contains("reportingOrganisation"))
    }

    @Test func unknownMappingNamesTheKnownOnes() {
        #expect { _ = try NationalMapping.named("enisa") } throws: { ($0 as? PortalError)?.message.contains("bsi, ccb, anssi, ncsc-nl, cert-at, ch-ncsc") == true }
    }
}
