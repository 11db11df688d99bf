/// Conversions between days since 1970-01-01 and proleptic Gregorian calendar dates (Howard Hinnant's
/// `days_from_civil` / `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
///
/// The one implementation behind `KopiaTime` (snapshot times), S3 listing times and SigV4's `x-amz-date`. Pure
/// integer arithmetic, exact for every year an `Int64` day count can hold within ±10^15; callers bound their inputs
/// (4-digit years) before converting.
enum CivilDate {
    /// Days since 1970-01-01 of `year-month-day` (month 1...12, day 1...31; not validated).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The calendar date of a day count (days since 1970-01-01).
    static func date(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    /// Days in `month` of `year` (Gregorian leap rule).
    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Splits seconds since the epoch into a day count and the seconds within that day (0..<86 400).
    static func split(epochSeconds: Int64) -> (days: Int64, secondOfDay: Int64) {
        var days = epochSeconds / 86_400
        var rem = epochSeconds % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        return (days, rem)
    }

    /// First second after 9999-12-31T23:59:59 (local time): the end of what 4-digit-year text can name.
    static let endOfYear9999: Int64 = days(year: 10_000, month: 1, day: 1) * 86_400
}
