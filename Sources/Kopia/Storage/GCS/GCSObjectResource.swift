internal import Foundation

/// The parts of a GCS object resource and of an objects-list page that Kopia needs (kopia-format.md §18.1, §18.2).
///
/// `size` is a decimal string; `timeCreated` RFC 3339 with fractional seconds; a `Kopia-Mtime` metadata value
/// (Unix nanoseconds, decimal) replaces `timeCreated` as the blob time (kopia `timestampmeta.FromValue`; an
/// unparsable value is ignored). Parsed with `JSONSerialization`; malformed documents throw, nothing traps.
struct GCSObjectResource: Sendable, Equatable {
    var name: String
    var size: Int64
    var modified: Date?

    static let mtimeKey = "Kopia-Mtime"

    init(name: String, size: Int64, modified: Date?) {
        self.name = name
        self.size = size
        self.modified = modified
    }

    init(json: [String: Any]) throws(KopiaError) {
        guard let name = json["name"] as? String else {
            throw KopiaError(.storageFailure, "a GCS object resource has no name")
        }
        let size: Int64?
        if let s = json["size"] as? String { size = Int64(s) } else { size = (json["size"] as? NSNumber)?.int64Value }
        guard let size, size >= 0 else {
            throw KopiaError(.storageFailure, "the GCS object resource of \"\(name)\" has no valid size")
        }
        var modified = (json["timeCreated"] as? String).flatMap(Self.parseTime)
        if let meta = json["metadata"] as? [String: Any] {
            let value = meta.first { $0.key.caseInsensitiveCompare(Self.mtimeKey) == .orderedSame }?.value as? String
            if let nanos = value.flatMap({ Int64($0) }) {
                modified = Date(timeIntervalSince1970: Double(nanos) / 1e9)
            }
        }
        self.init(name: name, size: size, modified: modified)
    }

    static func parse(_ body: [UInt8]) throws(KopiaError) -> GCSObjectResource {
        try GCSObjectResource(json: try object(body, what: "object resource"))
    }

    /// One page of `objects.list`: the objects and the token of the next page (nil on the last).
    static func parsePage(_ body: [UInt8]) throws(KopiaError) -> (objects: [GCSObjectResource], nextPageToken: String?) {
        let json = try object(body, what: "object listing")
        var out: [GCSObjectResource] = []
        for case let item as [String: Any] in (json["items"] as? [Any]) ?? [] {
            out.append(try GCSObjectResource(json: item))
        }
        let token = (json["nextPageToken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return (out, token)
    }

    private static func object(_ body: [UInt8], what: String) throws(KopiaError) -> [String: Any] {
        guard let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw KopiaError(.storageFailure, "GCS returned a \(what) that is not a JSON object (\(body.count) bytes)")
        }
        return json
    }

    /// RFC 3339 (`2026-12-04T23:16:13.793964Z`), with any number of fractional digits or none.
    static func parseTime(_ text: String) -> Date? {
        var whole = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            whole = String(text[..<dot]) + String(text[text.index(after: dot)...].dropFirst(digits.count))
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: whole).map { $0.addingTimeInterval(fraction) }
    }
}
