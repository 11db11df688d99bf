import Foundation

/// A directory object's listing (kopia-format.md §12.1; kopia `snapshot/snapshotfs/dir_reader.go`):
/// `{"stream":"kopia:directory","entries":[DirEntry…]|null,"summary":DirectorySummary}`.
///
/// `"entries":null` (an empty directory, a Go nil slice) is an empty listing. Entries keep their stored order
/// (directories first, then the rest, each sorted by name). Names are checked: an empty name, `.`, `..`, or a
/// name holding `/` or NUL makes the whole listing invalid, so no caller can be led outside a target directory.
public struct Directory: Sendable, Hashable {
    public let entries: [DirectoryEntry]
    public let summary: DirectorySummary?

    public init(entries: [DirectoryEntry], summary: DirectorySummary? = nil) {
        self.entries = entries
        self.summary = summary
    }

    /// The entry with this exact name.
    public func entry(named name: String) -> DirectoryEntry? {
        entries.first { $0.name == name }
    }

    /// Parses a directory object's bytes.
    /// - Parameter objectID: the directory object, for error messages.
    /// - Throws: `KopiaError` `.invalidDirectory` with the object ID set: not JSON, wrong stream tag, a bad
    ///   entry (saying which field), or an unsafe name.
    public static func parse(_ bytes: [UInt8], objectID: ObjectID) throws(KopiaError) -> Directory {
        // The fast parser handles what Kopia writes; anything else goes to JSONDecoder, which decides.
        let raw: Raw
        if let fast = DirectoryJSONParser.parse(bytes) {
            raw = Raw(stream: fast.stream, entries: fast.entries, summary: fast.summary)
        } else {
            raw = try decodeWithFoundation(bytes, objectID: objectID)
        }
        guard raw.stream == "kopia:directory" else {
            throw KopiaError(.invalidDirectory,
                             "object has stream \"\(raw.stream ?? "")\", expected \"kopia:directory\"",
                             objectID: objectID.description)
        }
        let entries = raw.entries ?? []
        for e in entries where !isSafeName(e.name) {
            throw KopiaError(.invalidDirectory, "directory holds an entry with the unsafe name \"\(e.name)\"",
                             objectID: objectID.description)
        }
        return Directory(entries: entries, summary: raw.summary)
    }

    private static func decodeWithFoundation(_ bytes: [UInt8], objectID: ObjectID) throws(KopiaError) -> Raw {
        do {
            return try JSONDecoder().decode(Raw.self, from: Data(bytes))
        } catch {
            let reason = (error as? KopiaError)?.message ?? ManifestEntry.describe(error)
            throw KopiaError(.invalidDirectory, "directory listing does not parse: \(reason)",
                             objectID: objectID.description, cause: error)
        }
    }

    /// Whether `name` is a single path component that stays inside its directory.
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/"))
            && !name.utf8.contains(0)
    }

    private struct Raw: Decodable {
        var stream: String?
        var entries: [DirectoryEntry]?
        var summary: DirectorySummary?
    }
}
