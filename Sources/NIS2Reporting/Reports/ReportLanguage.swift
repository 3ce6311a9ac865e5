import Foundation

/// The languages drafts are rendered in. Only the labels are translated; the operator's free
/// text appears as entered.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case en, fr, de

    public func label(_ k: ReportItemKey) -> String { (Self.labels[k] ?? [:])[self] ?? k.rawValue }

    public func stageName(_ s: ReportStage) -> String {
        switch (s, self) {
        case (.earlyWarning, .en): "Early warning (NIS2 Art 23(4)(a))"
        case (.earlyWarning, .fr): "Alerte précoce (NIS2 art. 23(4)(a))"
        case (.earlyWarning, .de): "Frühwarnung (NIS2 Art. 23 Abs. 4 lit. a)"
        case (.notification, .en): "Incident notification (NIS2 Art 23(4)(b))"
        case (.notification, .fr): "Notification d'incident (NIS2 art. 23(4)(b))"
        case (.notification, .de): "Meldung über den Sicherheitsvorfall (NIS2 Art. 23 Abs. 4 lit. b)"
        case (.intermediate, .en): "Intermediate report (NIS2 Art 23(4)(c))"
        case (.intermediate, .fr): "Rapport intermédiaire (NIS2 art. 23(4)(c))"
        case (.intermediate, .de): "Zwischenbericht (NIS2 Art. 23 Abs. 4 lit. c)"
        case (.progress, .en): "Progress report (NIS2 Art 23(4)(e))"
        case (.progress, .fr): "Rapport d'avancement (NIS2 art. 23(4)(e))"
        case (.progress, .de): "Fortschrittsbericht (NIS2 Art. 23 Abs. 4 lit. e)"
        case (.final, .en): "Final report (NIS2 Art 23(4)(d))"
        case (.final, .fr): "Rapport final (NIS2 art. 23(4)(d))"
        case (.final, .de): "Abschlussbericht (NIS2 Art. 23 Abs. 4 lit. d)"
        case (.chISG, .en): "Swiss cyberattack report (ISG Art 74d-74e, CSV Art 15)"
        case (.chISG, .fr): "Signalement de cyberattaque (LSI art. 74d-74e, OCyS art. 15)"
        case (.chISG, .de): "Meldung eines Cyberangriffs (ISG Art. 74d-74e, CSV Art. 15)"
        }
    }

    public func deadlineName(_ k: DeadlineKind) -> String {
        let en: [DeadlineKind: String] = [.earlyWarning: "early warning", .incidentNotification: "incident notification", .intermediateReport: "intermediate report",
                                          .finalReport: "final report", .progressReport: "progress report", .finalReportAfterHandling: "final report after handling",
                                          .swissISGReport: "Swiss ISG report", .swissISGCompletion: "Swiss ISG completion", .gdprBreachNotification: "GDPR Art 33 notification"]
        let fr: [DeadlineKind: String] = [.earlyWarning: "alerte précoce", .incidentNotification: "notification d'incident", .intermediateReport: "rapport intermédiaire",
                                          .finalReport: "rapport final", .progressReport: "rapport d'avancement", .finalReportAfterHandling: "rapport final après traitement",
                                          .swissISGReport: "signalement LSI", .swissISGCompletion: "complément LSI", .gdprBreachNotification: "notification RGPD art. 33"]
        let de: [DeadlineKind: String] = [.earlyWarning: "Frühwarnung", .incidentNotification: "Meldung", .intermediateReport: "Zwischenbericht",
                                          .finalReport: "Abschlussbericht", .progressReport: "Fortschrittsbericht", .finalReportAfterHandling: "Abschlussbericht nach Bewältigung",
                                          .swissISGReport: "ISG-Meldung", .swissISGCompletion: "ISG-Ergänzung", .gdprBreachNotification: "DSGVO-Meldung Art. 33"]
        return [.en: en, .fr: fr, .de: de][self]![k] ?? k.rawValue
    }

    public var yes: String { switch self { case .en: "yes"; case .fr: "oui"; case .de: "ja" } }
    public var no: String { switch self { case .en: "no"; case .fr: "non"; case .de: "nein" } }
    public var incident: String { switch self { case .en: "Incident"; case .fr: "Incident"; case .de: "Vorfall" } }
    public var tenant: String { switch self { case .en: "Tenant"; case .fr: "Client"; case .de: "Mandant" } }
    public var generated: String { switch self { case .en: "Draft generated"; case .fr: "Projet généré le"; case .de: "Entwurf erstellt" } }
    public var deadlines: String { switch self { case .en: "Open deadlines"; case .fr: "Échéances ouvertes"; case .de: "Offene Fristen" } }
    public var missingHeading: String {
        switch self {
        case .en: "Missing mandatory items (to be supplied, not invented)"
        case .fr: "Éléments obligatoires manquants (à fournir, jamais inventés)"
        case .de: "Fehlende Pflichtangaben (zu ergänzen, nicht erfunden)"
        }
    }
    public var optionalHeading: String {
        switch self {
        case .en: "Not yet known (where available or applicable)"
        case .fr: "Pas encore connu (si disponible ou applicable)"
        case .de: "Noch nicht bekannt (soweit verfügbar oder zutreffend)"
        }
    }
    public var draftNotice: String {
        switch self {
        case .en: "Draft for review by the incident manager. It is not legal advice; the Official Journal and national law prevail."
        case .fr: "Projet à relire par le responsable de l'incident. Ce n'est pas un avis juridique ; le Journal officiel et le droit national prévalent."
        case .de: "Entwurf zur Prüfung durch die Vorfallverantwortlichen. Keine Rechtsberatung; maßgeblich sind das Amtsblatt und das nationale Recht."
        }
    }

    private static let labels: [ReportItemKey: [ReportLanguage: String]] = [
        .reportingOrganisation: [.en: "Reporting organisation", .fr: "Organisation déclarante", .de: "Meldende Organisation"],
        .reportingOrganisationAddress: [.en: "Address", .fr: "Adresse", .de: "Adresse"],
        .onBehalfOf: [.en: "Reported on behalf of", .fr: "Signalé pour le compte de", .de: "Gemeldet im Namen von"],
        .contact: [.en: "Contact", .fr: "Contact", .de: "Kontakt"],
        .entityType: [.en: "Entity type", .fr: "Type d'entité", .de: "Art der Einrichtung"],
        .occurredAt: [.en: "Incident / attack started", .fr: "Début de l'incident / de l'attaque", .de: "Beginn des Vorfalls / Angriffs"],
        .detectedAt: [.en: "Detected", .fr: "Détecté le", .de: "Entdeckt"],
        .awareAt: [.en: "Became aware (significant incident)", .fr: "Prise de connaissance (incident important)", .de: "Kenntnis erlangt (erheblicher Sicherheitsvorfall)"],
        .suspectedUnlawfulOrMalicious: [.en: "Suspected unlawful or malicious act", .fr: "Acte illicite ou malveillant suspecté", .de: "Verdacht auf rechtswidrige oder böswillige Handlung"],
        .crossBorderImpact: [.en: "Possible cross-border impact", .fr: "Impact transfrontière possible", .de: "Mögliche grenzüberschreitende Auswirkungen"],
        .significance: [.en: "Significant incident", .fr: "Incident important", .de: "Erheblicher Sicherheitsvorfall"],
        .criteriaMet: [.en: "Criteria met", .fr: "Critères remplis", .de: "Erfüllte Kriterien"],
        .severityAndImpact: [.en: "Severity and impact", .fr: "Gravité et impact", .de: "Schweregrad und Auswirkungen"],
        .description: [.en: "Description", .fr: "Description", .de: "Beschreibung"],
        .attackTypeAndExecution: [.en: "Type and execution of the attack", .fr: "Type et déroulement de l'attaque", .de: "Art und Ausführung des Angriffs"],
        .effects: [.en: "Effects", .fr: "Effets", .de: "Auswirkungen"],
        .impactOnFunctioning: [.en: "Impact on the organisation's functioning", .fr: "Impact sur le fonctionnement de l'organisation", .de: "Auswirkungen auf die Funktionsfähigkeit der Organisation"],
        .affectedServices: [.en: "Affected services", .fr: "Services touchés", .de: "Betroffene Dienste"],
        .affectedTenants: [.en: "Affected customers (tenants)", .fr: "Clients touchés", .de: "Betroffene Kunden (Mandanten)"],
        .indicatorsOfCompromise: [.en: "Indicators of compromise", .fr: "Indicateurs de compromission", .de: "Kompromittierungsindikatoren"],
        .rootCauseOrThreatType: [.en: "Root cause or type of threat", .fr: "Cause première ou type de menace", .de: "Ursache oder Art der Bedrohung"],
        .attackerInformation: [.en: "Information about the attacker", .fr: "Informations sur l'attaquant", .de: "Angaben zur Täterschaft"],
        .mitigationsApplied: [.en: "Mitigation measures applied", .fr: "Mesures d'atténuation appliquées", .de: "Ergriffene Abhilfemaßnahmen"],
        .mitigationsOngoing: [.en: "Mitigation measures ongoing", .fr: "Mesures d'atténuation en cours", .de: "Laufende Abhilfemaßnahmen"],
        .plannedNextSteps: [.en: "Planned next steps", .fr: "Prochaines étapes prévues", .de: "Geplante nächste Schritte"],
        .extortionThreatsOrCoercion: [.en: "Extortion, threats or coercion", .fr: "Extorsion, menaces ou contrainte", .de: "Erpressung, Drohung oder Nötigung"],
        .criminalComplaintFiled: [.en: "Criminal complaint filed", .fr: "Plainte pénale déposée", .de: "Strafanzeige erstattet"],
        .recipientsInformed: [.en: "Recipients of the services informed", .fr: "Destinataires des services informés", .de: "Empfänger der Dienste informiert"],
        .previousSubmissions: [.en: "Previous submissions", .fr: "Soumissions précédentes", .de: "Bisherige Meldungen"],
        .timeline: [.en: "Timeline (evidence log)", .fr: "Chronologie (journal de preuves)", .de: "Zeitlicher Ablauf (Beweisprotokoll)"],
    ]
}
