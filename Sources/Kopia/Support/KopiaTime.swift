/// An instant as Kopia's JSON writes it (Go `time.Time`): RFC 3339 with up to 9 fractional digits and any UTC
/// offset (kopia-format.md, "Times in JSON"; pitfall h).
///
/// Keeps the nanoseconds exactly (a `Date` would round them) and the original offset, so a time prints back the
/// way Kopia wrote it. Ordering and equality compare the instant only, never the offset.
public struct KopiaTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public let seconds: Int64
    /// Nanoseconds within the second, 0..<1_000_000_000.
    public let nanoseconds: Int32
    /// The UTC offset the text carried, in seconds (0 for `Z`). Display only.
    public let offsetSeconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0, offsetSeconds: Int32 = 0) {
        let extra = Int64(nanoseconds) / 1_000_000_000
        var ns = Int64(nanoseconds) % 1_000_000_000
        var s = seconds + extra
        if ns < 0 { ns += 1_000_000_000; s -= 1 }
        self.seconds = s
        self.nanoseconds = Int32(ns)
        self.offsetSeconds = offsetSeconds
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`; `t`/`z` and a space separator are accepted too.
    /// - Throws: `KopiaError` `.invalidArgument` naming the text.
    public init(rfc3339 text: some StringProtocol) throws(KopiaError) {
        let s = Array(text.utf8)
        func fail() -> KopiaError {
            KopiaError(.invalidArgument, "\"\(text)\" is not an RFC 3339 time (expected e.g. 2026-11-21T00:01:00Z)")
        }
        func number(_ from: Int, _ count: Int) throws(KopiaError) -> Int64 {
            guard from + count <= s.count else { throw fail() }
            var v: Int64 = 0
            for i in from..<from + count {
                let c = s[i]
                guard c >= 48, c <= 57 else { throw fail() }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        func expect(_ i: Int, _ chars: String) throws(KopiaError) {
            guard i < s.count, chars.utf8.contains(s[i]) else { throw fail() }
        }
        let year = try number(0, 4)
        try expect(4, "-")
        let month = try number(5, 2)
        try expect(7, "-")
        let day = try number(8, 2)
        try expect(10, "Tt ")
        let hour = try number(11, 2)
        try expect(13, ":")
        let minute = try number(14, 2)
        try expect(16, ":")
        let second = try number(17, 2)
        var i = 19
        var nanos: Int64 = 0
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(s[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw fail() }
            for _ in min(digits, 9)..<9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        guard i < s.count else { throw fail() }
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            i += 1
        } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign: Int64 = s[i] == UInt8(ascii: "-") ? -1 : 1
            let oh = try number(i + 1, 2)
            try expect(i + 3, ":")
            let om = try number(i + 4, 2)
            guard oh < 24, om < 60 else { throw fail() }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            throw fail()
        }
        guard i == s.count, (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 61
        else { throw fail() }
        let days = CivilDate.days(year: year, month: month, day: day)
        let local = days * 86_400 + hour * 3600 + minute * 60 + second
        // A leap second on 9999-12-31 would print as year 10000, which no 4-digit text can say: refuse it so that
        // every parsed time formats back to text this parser reads.
        guard local < CivilDate.endOfYear9999 else { throw fail() }
        self.init(seconds: local - offset, nanoseconds: Int32(nanos), offsetSeconds: Int32(offset))
    }

    /// This instant with the offset dropped (printed with `Z`).
    public var utc: KopiaTime { KopiaTime(seconds: seconds, nanoseconds: nanoseconds) }

    /// RFC 3339 text like Go's `time.RFC3339Nano`: trailing fractional zeros trimmed, the original offset kept.
    public var description: String { format(fractionDigits: nil) }

    /// RFC 3339 text with exactly `fractionDigits` digits (0...9), or Go's trimmed form when nil.
    public func format(fractionDigits: Int?) -> String {
        let (days, rem) = CivilDate.split(epochSeconds: seconds + Int64(offsetSeconds))
        let (y, m, d) = CivilDate.date(days: days)
        var out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        out += pad(rem / 3600, 2) + ":" + pad(rem % 3600 / 60, 2) + ":" + pad(rem % 60, 2)
        var frac = pad(Int64(nanoseconds), 9)
        if let fractionDigits {
            frac = String(frac.prefix(max(0, min(9, fractionDigits))))
        } else {
            while frac.hasSuffix("0") { frac.removeLast() }
        }
        if !frac.isEmpty { out += "." + frac }
        if offsetSeconds == 0 {
            out += "Z"
        } else {
            let a = Int64(abs(offsetSeconds))
            out += (offsetSeconds < 0 ? "-" : "+") + pad(a / 3600, 2) + ":" + pad(a % 3600 / 60, 2)
        }
        return out
    }

    public static func < (lhs: KopiaTime, rhs: KopiaTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public static func == (lhs: KopiaTime, rhs: KopiaTime) -> Bool {
        lhs.seconds == rhs.seconds && lhs.nanoseconds == rhs.nanoseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seconds)
        hasher.combine(nanoseconds)
    }

    private func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

extension KopiaTime: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(rfc3339: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
