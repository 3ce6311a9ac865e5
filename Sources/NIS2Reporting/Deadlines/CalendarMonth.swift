import Foundation

/// Calendar-month arithmetic on the UTC date (rule book convention [I]): the day of month is
/// kept and clamped to the last day of the target month (31 Jan + 1 month = 28/29 Feb); the
/// time of day is kept. Weekends and holidays never extend a period.
///
/// Guarantees: pure arithmetic on the proleptic Gregorian calendar in UTC, independent of the
/// process time zone and locale; the result is never earlier than national period rules give.
public enum CalendarMonth {
    public static func adding(_ months: Int, to date: Date) -> Date {
        let t = date.timeIntervalSince1970
        let dayIndex = Int((t / 86_400).rounded(.down))
        let secondsOfDay = t - Double(dayIndex) * 86_400
        let (y, m, d) = civil(fromDays: dayIndex)
        let total = y * 12 + (m - 1) + months
        let ny = Int((Double(total) / 12).rounded(.down))
        let nm = total - ny * 12 + 1
        let nd = min(d, daysIn(month: nm, year: ny))
        return Date(timeIntervalSince1970: Double(days(fromCivil: ny, nm, nd)) * 86_400 + secondsOfDay)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Days since 1970-01-01 <-> (year, month, day), proleptic Gregorian.
    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
