internal import Foundation

/// One page of a ListObjectsV2 response (`ListBucketResult`).
///
/// | Element | Use |
/// |---|---|
/// | `Contents/Key` | object key (prefix + blob ID, kopia-format.md §1.3) |
/// | `Contents/Size` | blob length |
/// | `Contents/LastModified` | ISO 8601 UTC time, optional fraction |
/// | `IsTruncated` | `true` when another page follows |
/// | `NextContinuationToken` | the `continuation-token` of the next page |
struct S3ListObjectsPage: Sendable, Equatable {
    struct Object: Sendable, Equatable {
        var key: String
        var size: Int64
        var lastModified: Date?
    }

    var objects: [Object]
    var isTruncated: Bool
    var nextContinuationToken: String?

    /// Parses a `ListBucketResult` document.
    /// - Throws: `KopiaError.storageFailure` when the XML is malformed, the root is not `ListBucketResult`, an
    ///   object lacks a key or has a size that is not a non-negative integer, or a truncated page has no token.
    static func parse(_ body: [UInt8]) throws(KopiaError) -> S3ListObjectsPage {
        let root: S3XMLElement
        do {
            root = try S3XMLElement.parse(body)
        } catch {
            throw KopiaError(.storageFailure, "S3 listing response is not valid XML", cause: error)
        }
        guard root.name == "ListBucketResult" else {
            throw KopiaError(.storageFailure, "S3 listing response has root <\(root.name)>, expected <ListBucketResult>")
        }
        var objects: [Object] = []
        for entry in root.children("Contents") {
            guard let key = entry.value("Key") else {
                throw KopiaError(.storageFailure, "S3 listing entry without <Key>")
            }
            guard let size = Int64(entry.value("Size") ?? ""), size >= 0 else {
                throw KopiaError(.storageFailure, "S3 listing entry \(key) has an invalid <Size>")
            }
            objects.append(Object(key: key, size: size, lastModified: entry.value("LastModified").flatMap(parseTime)))
        }
        let truncated = root.value("IsTruncated")?.lowercased() == "true"
        let token = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw KopiaError(.storageFailure, "S3 listing is truncated but has no NextContinuationToken")
        }
        return S3ListObjectsPage(objects: objects, isTruncated: truncated, nextContinuationToken: token)
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.fff]Z` (any number of fraction digits; those past nanoseconds are ignored);
    /// nil for anything else, out-of-range fields included.
    static func parseTime(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"), u.last == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                guard u[i] >= UInt8(ascii: "0"), u[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int64(u[i] - UInt8(ascii: "0"))
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let s = num(17..<19), (1...12).contains(mo),
              (1...CivilDate.daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var nanoseconds: Int64 = 0
        if u.count > 20 {
            // At most 9 digits count (Int64 holds 18): the rest must be digits but add nothing.
            let digits = 20..<(u.count - 1)
            guard u[19] == UInt8(ascii: "."), !digits.isEmpty,
                  digits.allSatisfy({ u[$0] >= UInt8(ascii: "0") && u[$0] <= UInt8(ascii: "9") }),
                  let f = num(20..<min(29, u.count - 1)) else { return nil }
            nanoseconds = f
            for _ in min(9, digits.count)..<9 { nanoseconds *= 10 }
        }
        let days = CivilDate.days(year: y, month: mo, day: d)
        let seconds: Int64 = days * 86_400 + h * 3600 + mi * 60 + s
        let fraction: Double = Double(nanoseconds) / 1_000_000_000
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
