import Kopia
import Testing

struct KopiaTimeTests {
    @Test(arguments: [
        ("2026-11-20T23:52:30.12887975Z", "2026-11-20T23:52:30.12887975Z"),
        ("2026-11-20T23:52:25.526687993Z", "2026-11-20T23:52:25.526687993Z"),
        ("2026-11-21T00:01:00Z", "2026-11-21T00:01:00Z"),
        ("2019-03-04T10:11:12.5-07:00", "2019-03-04T10:11:12.5-07:00"),
        ("2024-02-29T00:00:00.000000000+05:30", "2024-02-29T00:00:00+05:30"),
        ("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z"),
    ])
    func timesPrintBackLikeGo(_ input: String, _ printed: String) throws {
        #expect(try KopiaTime(rfc3339: input).description == printed)
    }

    @Test func nanosecondsAndOffsetsCompareAsInstants() throws {
        let a = try KopiaTime(rfc3339: "2019-03-04T10:11:12.000000001-07:00")
        let b = try KopiaTime(rfc3339: "2019-03-04T17:11:12.000000001Z")
        let c = try KopiaTime(rfc3339: "2019-03-04T17:11:12.000000002Z")
        #expect(a == b)
        #expect(a < c)
        #expect(a.utc.description == "2019-03-04T17:11:12.000000001Z")
        #expect(b.seconds == 1_551_719_472)
    }

    @Test(arguments: ["", "2026-11-21", "2026-11-21T00:01:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                      "2026-11-21T00:01:00.Z", "2026-11-21T25:00:00Z", "2026-11-21T00:01:00Zjunk", "yesterday"])
    func invalidTimesAreRejected(_ text: String) {
        #expect(throws: KopiaError.self) { _ = try KopiaTime(rfc3339: text) }
    }
}

/// Issue 17 item 10: every time the parser accepts formats back to text the parser accepts.
struct KopiaTimeRoundTripTests {
    @Test(arguments: ["9999-12-31 23:59:60.1-00:20", "9999-12-31T23:59:60Z", "9999-12-31T23:59:60.999999999+14:00"])
    func leapSecondAtTheEndOfYear9999IsRefused(_ text: String) {
        #expect { _ = try KopiaTime(rfc3339: text) } throws: { ($0 as? KopiaError)?.code == .invalidArgument }
    }

    @Test(arguments: ["9999-12-31T23:59:59.999999999-23:59", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00+23:59",
                      "2016-12-31T23:59:60Z", "1969-12-31T23:59:59.5-01:00"])
    func extremesRoundTrip(_ text: String) throws {
        let t = try KopiaTime(rfc3339: text)
        let again = try KopiaTime(rfc3339: t.description)
        #expect(again == t && again.offsetSeconds == t.offsetSeconds)
    }
}
