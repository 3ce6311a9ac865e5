import EvidenceCore
import Foundation
import NIS2Reporting

/// How well a national mapping is backed.
///
/// None of the national portals publishes a field list the rule book could verify
/// (Docs: nis2-rules.md section 5 marks every EU form field list [U]); only the Swiss items
/// come from a legal text (Art. 15 CSV, [S]). So every field *name* below is inferred, and
/// every output says so.
public enum MappingBasis: Hashable, Sendable {
    /// Our own choice of name and placement: no published field list was available.
    case inferred(String)
    /// The item is required by a legal text the rule book cites (the field name is still ours).
    case ruleBook(String)

    public var label: String {
        switch self {
        case .inferred(let why): "inferred: " + why
        case .ruleBook(let source): "rule book: " + source + " (field name inferred)"
        }
    }
    public var isInferred: Bool { if case .inferred = self { true } else { false } }
}

/// One national form field and the neutral report item it is filled from.
public struct NationalField: Hashable, Sendable {
    public var name: String
    public var item: ReportItemKey
    public var basis: MappingBasis
}

/// A national authority's view of a NIS2 report: its name for each stage and the field each
/// neutral item goes to, as far as the rule book (section 5) knows them.
///
/// Guarantees: a mapping never drops an item: items without a national field are carried
/// under `additional` with their neutral key; items a stage requires but the draft lacks are
/// listed as missing, never filled; every field states its basis (inferred or rule book).
/// Refuses (`PortalError.unsupportedStage`) a stage the authority does not take (the Swiss
/// form takes only `ch-isg`; EU portals never take `ch-isg`).
public struct NationalMapping: Hashable, Sendable {
    public var id: String
    public var authority: String
    public var country: String
    public var channel: String
    /// What the rule book says about the national law's status and the form's fields.
    public var status: String
    public var stages: [ReportStage: String]
    public var fields: [NationalField]

    /// Every mapping, by id: bsi, ccb, anssi, ncsc-nl, cert-at, ch-ncsc.
    public static let all: [NationalMapping] = [bsi, ccb, anssi, ncscNL, certAT, chNCSC]

    /// No national form: every neutral item under its own key, every stage (the default).
    public static let neutral = NationalMapping(
        id: "neutral", authority: "any (neutral NIS2 Art 23 / CSV Art 15 model)", country: "EU", channel: "as agreed with the recipient",
        status: "the union of NIS2 Art 23(4) and Swiss CSV Art 15 items (rule book §5); no national form applied",
        stages: Dictionary(uniqueKeysWithValues: ReportStage.allCases.map { ($0, $0.rawValue) }),
        fields: ReportItemKey.allCases.map { NationalField(name: $0.rawValue, item: $0, basis: .ruleBook("neutral model, rule book §5")) })

    public static func named(_ id: String) throws -> NationalMapping {
        if id.lowercased() == neutral.id { return neutral }
        guard let m = all.first(where: { $0.id == id.lowercased() }) else {
            throw PortalError(.unknownMapping, "unknown national mapping '\(id.prefix(40))'; known: " + all.map(\.id).joined(separator: ", "))
        }
        return m
    }

    /// True when every field name is inferred (all EU portals, per the rule book).
    public var isInferred: Bool { fields.allSatisfy { $0.basis.isInferred } }

    /// The stage's national name, or a refusal naming the stages this authority takes.
    public func stageName(_ s: ReportStage) throws -> String {
        guard let n = stages[s] else {
            throw PortalError(.unsupportedStage, "\(authority) does not take a '\(s.rawValue)' report through this mapping; it takes: "
                              + ReportStage.allCases.filter { stages[$0] != nil }.map(\.rawValue).joined(separator: ", "))
        }
        return n
    }

    static let euStagesNote = "rule book §5: stages as NIS2 Art 23(4)"
    static func fields(_ table: [(ReportItemKey, String)], basis: MappingBasis) -> [NationalField] {
        table.map { NationalField(name: $0.1, item: $0.0, basis: basis) }
    }

    // MARK: The six mappings (rule book section 5)

    public static let bsi = NationalMapping(
        id: "bsi", authority: "BSI/BBK joint reporting office", country: "DE", channel: "BSI portal (access set up at registration)",
        status: "BSIG as amended by the NIS2 implementation act, in force 6 Dec 2025 [S]; stages per § 32 BSIG [V]; portal field list not found [U]",
        stages: [.earlyWarning: "Frühe Erstmeldung (24 h, § 32 Abs. 1 Nr. 1 BSIG)", .notification: "Meldung (72 h, § 32 Abs. 1 Nr. 2 BSIG)",
                 .intermediate: "Zwischenmeldung (auf Ersuchen des BSI)", .progress: "Fortschrittsmeldung (§ 32 Abs. 2 BSIG)",
                 .final: "Abschlussmeldung (1 Monat)"],
        fields: fields([
            (.reportingOrganisation, "meldendeEinrichtung"), (.onBehalfOf, "meldungImAuftragVon"), (.contact, "ansprechpartner"),
            (.entityType, "einrichtungsart"), (.occurredAt, "zeitpunktVorfall"), (.detectedAt, "zeitpunktErkennung"), (.awareAt, "zeitpunktKenntnis"),
            (.suspectedUnlawfulOrMalicious, "verdachtRechtswidrigOderBoeswillig"), (.crossBorderImpact, "grenzueberschreitendeAuswirkungen"),
            (.significance, "erheblicherSicherheitsvorfall"), (.severityAndImpact, "schweregradUndAuswirkungen"), (.description, "beschreibung"),
            (.indicatorsOfCompromise, "kompromittierungsindikatoren"), (.rootCauseOrThreatType, "bedrohungsartOderUrsache"),
            (.mitigationsApplied, "ergriffeneAbhilfemassnahmen"), (.mitigationsOngoing, "laufendeAbhilfemassnahmen"),
            (.affectedServices, "betroffeneDienste"), (.recipientsInformed, "dienstempfaengerInformiert"),
        ], basis: .inferred("BSI portal field list not found (rule book §5 [U])")))

    public static let ccb = NationalMapping(
        id: "ccb", authority: "CCB (CERT.be)", country: "BE", channel: "incident notification platform on Safeonweb@Work (atwork.safeonweb.be); emergencies +32 2 501 05 60",
        status: "NIS2 Law of 26 Apr 2024, in force 18 Oct 2024 [S]; form fields not verified [U]",
        stages: [.earlyWarning: "Early warning (24 h)", .notification: "Incident notification (72 h)", .intermediate: "Intermediate report",
                 .progress: "Progress report", .final: "Final report"],
        fields: fields([
            (.reportingOrganisation, "organisation"), (.onBehalfOf, "reportingOnBehalfOf"), (.contact, "contactPerson"), (.entityType, "entityType"),
            (.occurredAt, "incidentStart"), (.detectedAt, "detectionTime"), (.awareAt, "awarenessTime"),
            (.suspectedUnlawfulOrMalicious, "suspectedMaliciousOrUnlawful"), (.crossBorderImpact, "crossBorderImpact"),
            (.significance, "significantIncident"), (.severityAndImpact, "severityAndImpact"), (.description, "incidentDescription"),
            (.indicatorsOfCompromise, "indicatorsOfCompromise"), (.rootCauseOrThreatType, "threatTypeOrRootCause"),
            (.mitigationsApplied, "mitigationMeasuresApplied"), (.mitigationsOngoing, "mitigationMeasuresOngoing"), (.affectedServices, "affectedServices"),
        ], basis: .inferred("CCB form fields not verified (rule book §5 [U])")))

    public static let anssi = NationalMapping(
        id: "anssi", authority: "ANSSI", country: "FR", channel: "MonEspaceNIS2 portal (beta)",
        status: "transposition (projet de loi résilience) final adoption not verified [U]; reporting channel and fields not verified [U]; the owner of the compromised system notifies, even when an MSP runs it [S]",
        stages: [.earlyWarning: "Alerte précoce (24 h)", .notification: "Notification d'incident (72 h)", .intermediate: "Rapport intermédiaire",
                 .progress: "Rapport d'avancement", .final: "Rapport final"],
        fields: fields([
            (.reportingOrganisation, "entiteDeclarante"), (.onBehalfOf, "pourLeCompteDe"), (.contact, "contact"), (.entityType, "typeEntite"),
            (.occurredAt, "dateDebutIncident"), (.detectedAt, "dateDetection"), (.awareAt, "datePriseDeConnaissance"),
            (.suspectedUnlawfulOrMalicious, "suspicionActeIlliciteOuMalveillant"), (.crossBorderImpact, "impactTransfrontalier"),
            (.significance, "incidentImportant"), (.severityAndImpact, "graviteEtImpact"), (.description, "description"),
            (.indicatorsOfCompromise, "indicateursDeCompromission"), (.rootCauseOrThreatType, "typeMenaceOuCauseRacine"),
            (.mitigationsApplied, "mesuresAppliquees"), (.mitigationsOngoing, "mesuresEnCours"), (.affectedServices, "servicesAffectes"),
        ], basis: .inferred("ANSSI channel and fields not verified (rule book §5 [U])")))

    public static let ncscNL = NationalMapping(
        id: "ncsc-nl", authority: "NCSC-NL", country: "NL", channel: "central Meldportaal announced; voluntary NIS2 report form since 17 Oct 2024",
        status: "Cyberbeveiligingswet still a bill, entry into force not verified [U]; until then the Wbni (NIS1) applies [S]; fields not verified [U]",
        stages: [.earlyWarning: "Vroegtijdige waarschuwing (24 uur)", .notification: "Incidentmelding (72 uur)", .intermediate: "Tussentijds verslag",
                 .progress: "Voortgangsverslag", .final: "Eindverslag"],
        fields: fields([
            (.reportingOrganisation, "organisatie"), (.onBehalfOf, "namens"), (.contact, "contactpersoon"), (.entityType, "typeEntiteit"),
            (.occurredAt, "startIncident"), (.detectedAt, "tijdstipDetectie"), (.awareAt, "tijdstipKennisname"),
            (.suspectedUnlawfulOrMalicious, "vermoedenOnrechtmatigOfKwaadwillig"), (.crossBorderImpact, "grensoverschrijdendeGevolgen"),
            (.significance, "significantIncident"), (.severityAndImpact, "ernstEnImpact"), (.description, "omschrijving"),
            (.indicatorsOfCompromise, "indicatorenVanCompromittering"), (.rootCauseOrThreatType, "dreigingOfOorzaak"),
            (.mitigationsApplied, "genomenMaatregelen"), (.mitigationsOngoing, "lopendeMaatregelen"), (.affectedServices, "getroffenDiensten"),
        ], basis: .inferred("NCSC-NL fields not verified (rule book §5 [U])")))

    public static let certAT = NationalMapping(
        id: "cert-at", authority: "CERT.at (or the sector CSIRT)", country: "AT", channel: "reporting portal nis2.cert.at (test instance runs deadlines ×60)",
        status: "NISG 2026 § 34, in force from 1 Oct 2026 [S]; report types from the portal FAQ [S], incl. withdrawal (Widerruf); full field list not verified [U]",
        stages: [.earlyWarning: "Frühwarnung (24 h)", .notification: "Meldung (72 h)", .intermediate: "Zwischenbericht (auf Ersuchen)",
                 .progress: "Fortschrittsbericht", .final: "Abschlussbericht"],
        fields: fields([
            (.reportingOrganisation, "meldendeEinrichtung"), (.onBehalfOf, "imAuftragVon"), (.contact, "kontakt"), (.entityType, "einrichtungstyp"),
            (.occurredAt, "beginnVorfall"), (.detectedAt, "zeitpunktErkennung"), (.awareAt, "zeitpunktKenntnis"),
            (.suspectedUnlawfulOrMalicious, "verdachtRechtswidrigOderBoeswillig"), (.crossBorderImpact, "grenzueberschreitend"),
            (.significance, "erheblicherVorfall"), (.severityAndImpact, "schwereUndAuswirkungen"), (.description, "beschreibung"),
            (.indicatorsOfCompromise, "iocs"), (.rootCauseOrThreatType, "ursacheOderBedrohung"),
            (.mitigationsApplied, "gesetzteMassnahmen"), (.mitigationsOngoing, "laufendeMassnahmen"), (.affectedServices, "betroffeneDienste"),
        ], basis: .inferred("CERT.at full field list not verified (rule book §5 [U])")))

    /// The Swiss items come from Art. 74e(2) ISG and Art. 15 CSV (rule book §4, [S]); the
    /// Cyber Security Hub's own field identifiers are not known, so the names are ours.
    public static let chNCSC = NationalMapping(
        id: "ch-ncsc", authority: "BACS / NCSC (Switzerland)", country: "CH", channel: "Cyber Security Hub reporting form, or the e-mail form without an account",
        status: "ISG Arts. 74a-74h and CSV [S]; report within 24 h of discovery, completion within 14 days [S]; items per Art. 15 CSV [S]",
        stages: [.chISG: "Meldung eines Cyberangriffs (Art. 74e ISG)"],
        fields: fields([
            (.reportingOrganisation, "meldendeOrganisation"), (.attackTypeAndExecution, "artUndAusfuehrungDesAngriffs"), (.effects, "auswirkungen"),
            (.mitigationsApplied, "ergriffeneMassnahmen"), (.plannedNextSteps, "geplantesWeiteresVorgehen"),
            (.detectedAt, "zeitpunktEntdeckung"), (.occurredAt, "zeitpunktAngriff"), (.attackerInformation, "angabenZurTaeterschaft"),
            (.extortionThreatsOrCoercion, "erpressungDrohungNoetigung"), (.criminalComplaintFiled, "strafanzeigeErstattet"),
            (.severityAndImpact, "schwereDerAuswirkungenVIV"), (.impactOnFunctioning, "auswirkungAufFunktionsfaehigkeit"),
            (.reportingOrganisationAddress, "firmaUndAdresse"), (.contact, "kontaktangabenMeldende"),
        ], basis: .ruleBook("Art. 74e(2) ISG, Art. 15 CSV [S]")))
}
