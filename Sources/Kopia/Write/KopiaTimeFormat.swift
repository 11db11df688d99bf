import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Time helpers for writing: Go's `time.Time` JSON form in UTC (RFC 3339, nanoseconds with trailing zeros
/// trimmed, `Z`), as new Kopia writers emit it.
enum KopiaTimeFormat {
    static func utc(_ t: KopiaTime) -> String {
        KopiaTime(seconds: t.seconds, nanoseconds: t.nanoseconds, offsetSeconds: 0).description
    }

    /// The current time with real nanoseconds (`clock_gettime`; a `Date` would round them).
    static func now() -> KopiaTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return KopiaTime(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }
}

/// Decoding helper shared by the writer for the reader's Decodable types.
enum JSONDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }
}
