import EvidenceCore
import Foundation

extension IncidentFacts {
    /// Reads the `facts` object of the rule book's format (section 0).
    ///
    /// Refuses, naming the case and the field: a key the format does not define (a typo would
    /// otherwise silently drop a fact), a value of the wrong type, a negative number, a timestamp
    /// without a UTC offset, and a missing `occurredAt` or `awareAt`.
    public init(json: JSONValue, caseID: String? = nil) throws {
        let r = FactReader(caseID: caseID, path: "facts")
        let o = try r.object(json)
        try r.refuseUnknown(o, allowed: [
            "occurredAt", "awareAt", "directFinancialLossEUR", "annualTurnoverPreviousFinancialYearEUR",
            "tradeSecretsExfiltrated", "deathCausedOrPossible", "considerableHealthDamageCausedOrPossible",
            "unauthorisedAccess", "scheduledMaintenance", "totalUsersInUnion", "completeUnavailabilityMinutes",
            "completeUnavailabilityUsersAffected", "limitedAvailabilityMinutes", "limitedAvailabilityUsersAffected",
            "unavailabilityMinutesInCalendarWeek", "averageResponseTimeSeconds", "averageResponseTimePeriodMinutes",
            "dataCompromise", "physicalAccessCompromised", "affectsTrustServiceProvision", "rootCause", "previousIncidents",
        ])
        self.init(occurredAt: try r.requiredTime(o, "occurredAt"), awareAt: try r.requiredTime(o, "awareAt"))
        directFinancialLossEUR = try r.number(o, "directFinancialLossEUR")
        annualTurnoverPreviousFinancialYearEUR = try r.number(o, "annualTurnoverPreviousFinancialYearEUR")
        tradeSecretsExfiltrated = try r.bool(o, "tradeSecretsExfiltrated")
        deathCausedOrPossible = try r.bool(o, "deathCausedOrPossible")
        considerableHealthDamageCausedOrPossible = try r.bool(o, "considerableHealthDamageCausedOrPossible")
        scheduledMaintenance = try r.bool(o, "scheduledMaintenance")
        totalUsersInUnion = try r.number(o, "totalUsersInUnion")
        completeUnavailabilityMinutes = try r.number(o, "completeUnavailabilityMinutes")
        completeUnavailabilityUsersAffected = try r.number(o, "completeUnavailabilityUsersAffected")
        limitedAvailabilityMinutes = try r.number(o, "limitedAvailabilityMinutes")
        limitedAvailabilityUsersAffected = try r.number(o, "limitedAvailabilityUsersAffected")
        unavailabilityMinutesInCalendarWeek = try r.number(o, "unavailabilityMinutesInCalendarWeek")
        averageResponseTimeSeconds = try r.number(o, "averageResponseTimeSeconds")
        averageResponseTimePeriodMinutes = try r.number(o, "averageResponseTimePeriodMinutes")
        physicalAccessCompromised = try r.bool(o, "physicalAccessCompromised")
        affectsTrustServiceProvision = try r.bool(o, "affectsTrustServiceProvision")
        rootCause = try r.string(o, "rootCause")

        if let ua = o["unauthorisedAccess"] {
            let s = r.nested("unauthorisedAccess")
            let uo = try s.object(ua)
            try s.refuseUnknown(uo, allowed: ["successful", "suspectedMalicious", "capableOfSevereOperationalDisruption"])
            unauthorisedAccess = UnauthorisedAccess(successful: try s.bool(uo, "successful"),
                                                    suspectedMalicious: try s.bool(uo, "suspectedMalicious"),
                                                    capableOfSevereOperationalDisruption: try s.bool(uo, "capableOfSevereOperationalDisruption"))
        }
        if let dc = o["dataCompromise"] {
            let s = r.nested("dataCompromise")
            let d = try s.object(dc)
            try s.refuseUnknown(d, allowed: ["integrity", "confidentiality", "authenticity", "suspectedMalicious", "usersAffected",
                                             "relatedToServiceProvision", "cause", "relatedService", "domainNamesAffected", "domainNamesManaged"])
            var c = DataCompromise()
            c.integrity = try s.bool(d, "integrity")
            c.confidentiality = try s.bool(d, "confidentiality")
            c.authenticity = try s.bool(d, "authenticity")
            c.suspectedMalicious = try s.bool(d, "suspectedMalicious")
            c.usersAffected = try s.number(d, "usersAffected")
            c.relatedToServiceProvision = try s.bool(d, "relatedToServiceProvision", default: true)
            c.cause = try s.string(d, "cause")
            c.relatedService = try s.string(d, "relatedService")
            if let rs = c.relatedService, rs != "authoritativeResolution", rs != "recursiveResolution" {
                throw s.error(.invalidFact, "relatedService", "must be 'authoritativeResolution' or 'recursiveResolution', not '\(rs.prefix(60))'")
            }
            c.domainNamesAffected = try s.number(d, "domainNamesAffected")
            c.domainNamesManaged = try s.number(d, "domainNamesManaged")
            dataCompromise = c
        }
        if let pv = o["previousIncidents"] {
            guard let arr = pv.arrayValue else { throw r.error(.invalidFact, "previousIncidents", "must be an array of earlier incidents") }
            for (n, item) in arr.enumerated() {
                let s = r.nested("previousIncidents[\(n)]")
                let p = try s.object(item)
                try s.refuseUnknown(p, allowed: ["id", "occurredAt", "rootCause", "directFinancialLossEUR", "individuallySignificant"])
                previousIncidents.append(PreviousIncident(
                    id: try s.string(p, "id") ?? "previous #\(n + 1)", occurredAt: try s.requiredTime(p, "occurredAt"),
                    rootCause: try s.string(p, "rootCause"), directFinancialLossEUR: try s.number(p, "directFinancialLossEUR") ?? 0,
                    individuallySignificant: try s.bool(p, "individuallySignificant")))
            }
        }
    }

    /// The facts in the rule book's format, with timestamps in UTC. Absent facts stay absent.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["occurredAt": .string(Timestamp.format(occurredAt)), "awareAt": .string(Timestamp.format(awareAt))]
        func num(_ k: String, _ v: Double?) { if let v { o[k] = .number(v) } }
        func flag(_ k: String, _ v: Bool) { if v { o[k] = .bool(true) } }
        num("directFinancialLossEUR", directFinancialLossEUR)
        num("annualTurnoverPreviousFinancialYearEUR", annualTurnoverPreviousFinancialYearEUR)
        flag("tradeSecretsExfiltrated", tradeSecretsExfiltrated)
        flag("deathCausedOrPossible", deathCausedOrPossible)
        flag("considerableHealthDamageCausedOrPossible", considerableHealthDamageCausedOrPossible)
        flag("scheduledMaintenance", scheduledMaintenance)
        num("totalUsersInUnion", totalUsersInUnion)
        num("completeUnavailabilityMinutes", completeUnavailabilityMinutes)
        num("completeUnavailabilityUsersAffected", completeUnavailabilityUsersAffected)
        num("limitedAvailabilityMinutes", limitedAvailabilityMinutes)
        num("limitedAvailabilityUsersAffected", limitedAvailabilityUsersAffected)
        num("unavailabilityMinutesInCalendarWeek", unavailabilityMinutesInCalendarWeek)
        num("averageResponseTimeSeconds", averageResponseTimeSeconds)
        num("averageResponseTimePeriodMinutes", averageResponseTimePeriodMinutes)
        flag("physicalAccessCompromised", physicalAccessCompromised)
        flag("affectsTrustServiceProvision", affectsTrustServiceProvision)
        if let rootCause { o["rootCause"] = .string(rootCause) }
        if let a = unauthorisedAccess {
            o["unauthorisedAccess"] = .object(["successful": .bool(a.successful), "suspectedMalicious": .bool(a.suspectedMalicious),
                                               "capableOfSevereOperationalDisruption": .bool(a.capableOfSevereOperationalDisruption)])
        }
        if let d = dataCompromise {
            var c: [String: JSONValue] = ["integrity": .bool(d.integrity), "confidentiality": .bool(d.confidentiality),
                                          "authenticity": .bool(d.authenticity), "suspectedMalicious": .bool(d.suspectedMalicious),
                                          "relatedToServiceProvision": .bool(d.relatedToServiceProvision)]
            if let v = d.usersAffected { c["usersAffected"] = .number(v) }
            if let v = d.cause { c["cause"] = .string(v) }
            if let v = d.relatedService { c["relatedService"] = .string(v) }
            if let v = d.domainNamesAffected { c["domainNamesAffected"] = .number(v) }
            if let v = d.domainNamesManaged { c["domainNamesManaged"] = .number(v) }
            o["dataCompromise"] = .object(c)
        }
        if !previousIncidents.isEmpty {
            o["previousIncidents"] = .array(previousIncidents.map { p in
                var e: [String: JSONValue] = ["id": .string(p.id), "occurredAt": .string(Timestamp.format(p.occurredAt)),
                                              "directFinancialLossEUR": .number(p.directFinancialLossEUR),
                                              "individuallySignificant": .bool(p.individuallySignificant)]
                if let rc = p.rootCause { e["rootCause"] = .string(rc) }
                return .object(e)
            })
        }
        return .object(o)
    }
}

/// Reads typed fields out of a JSON object, naming the case and the field path on every error.
struct FactReader {
    let caseID: String?
    let path: String

    func nested(_ name: String) -> FactReader { FactReader(caseID: caseID, path: path + "." + name) }

    func error(_ code: ReportingError.Code, _ key: String?, _ message: String) -> ReportingError {
        ReportingError(code, caseID: caseID, field: key.map { path + "." + $0 } ?? path, message)
    }

    func object(_ v: JSONValue) throws -> [String: JSONValue] {
        guard let o = v.objectValue else { throw error(.invalidFact, nil, "must be a JSON object") }
        return o
    }

    func refuseUnknown(_ o: [String: JSONValue], allowed: Set<String>) throws {
        if let k = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw error(.invalidFact, k, "is not a fact of the rule book format (section 0); check the spelling. Known: " + allowed.sorted().joined(separator: ", "))
        }
    }

    func number(_ o: [String: JSONValue], _ k: String) throws -> Double? {
        guard let v = o[k] else { return nil }
        guard let n = v.numberValue else { throw error(.invalidFact, k, "must be a number, not \(Self.kind(v)); leave the key out if it does not apply") }
        guard n >= 0 else { throw error(.invalidFact, k, "must not be negative (\(JCS.formatNumber(n))); enter the amount or count as a positive number") }
        return n
    }

    func bool(_ o: [String: JSONValue], _ k: String, default d: Bool = false) throws -> Bool {
        guard let v = o[k] else { return d }
        guard let b = v.boolValue else { throw error(.invalidFact, k, "must be true or false, not \(Self.kind(v))") }
        return b
    }

    func string(_ o: [String: JSONValue], _ k: String) throws -> String? {
        guard let v = o[k] else { return nil }
        guard let s = v.stringValue else { throw error(.invalidFact, k, "must be a string, not \(Self.kind(v))") }
        return s
    }

    func requiredTime(_ o: [String: JSONValue], _ k: String) throws -> Date {
        guard let v = o[k] else { throw error(.missingFact, k, "is required: an ISO-8601 timestamp with offset, e.g. 2026-01-30T10:00:00+01:00") }
        guard let s = v.stringValue else { throw error(.invalidFact, k, "must be an ISO-8601 timestamp string, not \(Self.kind(v))") }
        do { return try Timestamp.parse(s) } catch let e as EvidenceError { throw error(.invalidFact, k, e.message) }
    }

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"; case .bool: "a boolean"; case .number: "a number"; case .string: "a string"
        case .array: "an array"; case .object: "an object"
        }
    }
}
