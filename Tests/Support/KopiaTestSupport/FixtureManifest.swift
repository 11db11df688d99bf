import Foundation

/// What a fixture's `MANIFEST.md` says its repository holds: the snapshot table and the source-tree listings
/// (parsed, never hard-coded in tests).
///
/// Recognised layout (all fixtures under `../shared/fixtures/kopia` follow it):
/// - a table whose header starts `| # | snapshot ID |`, with columns `snapshot ID`, `description`, `startTime`,
///   optionally `endTime` and `source`, `root object`, `files`, `dirs`, `total size`;
/// - when there is no `source` column, the identity from the line `Snapshot source identity recorded: \`…\``;
/// - deleted snapshots as `- \`<id>\`` lines under a heading containing "deleted";
/// - under `## Source trees`, one fenced listing per snapshot in table order (extra trailing listings belong to
///   deleted snapshots), lines `type mode size sha256|->target path` with `\n`, `\t`, `\\`, `\xNN` escapes.
public struct FixtureManifest: Sendable {
    public struct Entry: Sendable, Hashable {
        /// `f`, `d` or `l`.
        public let type: Character
        /// Permission bits, e.g. 0o644.
        public let mode: UInt32
        /// nil for directories.
        public let size: Int64?
        /// Symlink target.
        public let target: String?
        /// Relative path without a trailing `/`.
        public let path: String
        /// Lowercase hex SHA-256 of a file's contents; nil for directories and symlinks.
        public var sha256: String? = nil
    }

    public struct Snapshot: Sendable {
        public let id: String
        public let identity: String
        public let description: String
        public let startTime: String
        public let endTime: String?
        public let rootObject: String
        public let files: Int
        public let dirs: Int
        public let totalSize: Int64
        /// Every entry of the source tree, deduplicated by path, in listing order.
        public let entries: [Entry]
    }

    public let name: String
    public let snapshots: [Snapshot]
    public let deletedIDs: [String]

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `<fixture>/MANIFEST.md`.
    public static func load(_ name: String) throws -> FixtureManifest {
        let url = Fixtures.kopia(name).appendingPathComponent("MANIFEST.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text, name: name)
    }

    public static func parse(_ text: String, name: String) throws -> FixtureManifest {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> ParseError { ParseError(description: "\(name)/MANIFEST.md: \(why)") }

        guard let headerIndex = lines.firstIndex(where: { $0.hasPrefix("| # | snapshot ID") }) else {
            throw fail("no snapshot table")
        }
        let columns = cells(lines[headerIndex])
        func column(_ title: String) -> Int? { columns.firstIndex(of: title) }
        guard let idCol = column("snapshot ID"), let startCol = column("startTime"),
              let rootCol = column("root object"), let filesCol = column("files"), let dirsCol = column("dirs"),
              let sizeCol = column("total size"), let descCol = column("description")
        else { throw fail("snapshot table lacks a column: \(columns)") }
        let sourceCol = column("source")
        let endCol = column("endTime")
        var recorded: String?
        if let line = lines.first(where: { $0.contains("Snapshot source identity recorded:") }) {
            recorded = line.split(separator: "`").dropFirst().first.map(String.init)
        }

        var rows: [[String]] = []
        for line in lines[(headerIndex + 1)...] {
            guard line.hasPrefix("|") else { break }
            if line.hasPrefix("|---") || line.hasPrefix("| ---") { continue }
            rows.append(cells(line))
        }

        var deleted: [String] = []
        if let h = lines.firstIndex(where: { $0.hasPrefix("#") && $0.contains("deleted") }) {
            for line in lines[(h + 1)...] {
                if line.hasPrefix("#") { break }
                if line.hasPrefix("- `"), let id = line.split(separator: "`").dropFirst().first {
                    deleted.append(String(id))
                }
            }
        }

        let listings = try sourceListings(lines, fail: fail)
        guard listings.count >= rows.count else {
            throw fail("\(rows.count) snapshots but \(listings.count) source listings")
        }
        var snapshots: [Snapshot] = []
        for (i, row) in rows.enumerated() {
            guard row.count == columns.count else { throw fail("row \(i + 1) has \(row.count) cells") }
            guard let identity = sourceCol.map({ row[$0] }) ?? recorded else { throw fail("no identity for row \(i + 1)") }
            guard let files = Int(row[filesCol]), let dirs = Int(row[dirsCol]), let size = Int64(row[sizeCol]) else {
                throw fail("row \(i + 1) has non-numeric counts")
            }
            snapshots.append(Snapshot(id: row[idCol], identity: identity, description: row[descCol],
                                      startTime: row[startCol], endTime: endCol.map { row[$0] },
                                      rootObject: row[rootCol], files: files, dirs: dirs, totalSize: size,
                                      entries: listings[i]))
        }
        return FixtureManifest(name: name, snapshots: snapshots, deletedIDs: deleted)
    }

    private static func cells(_ line: String) -> [String] {
        var parts = line.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
        }
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    private static func sourceListings(_ lines: [String], fail: (String) -> ParseError) throws -> [[Entry]] {
        guard let start = lines.firstIndex(of: "## Source trees") else { throw fail("no '## Source trees'") }
        var listings: [[Entry]] = []
        var current: [Entry]?
        var seen = Set<String>()
        for line in lines[(start + 1)...] {
            if current == nil, line.hasPrefix("## ") { break }
            if line.hasPrefix("```") {
                if let c = current {
                    listings.append(c)
                    current = nil
                } else {
                    current = []
                    seen = []
                }
                continue
            }
            guard current != nil, !line.isEmpty else { continue }
            let entry = try parseEntry(line, fail: fail)
            if seen.insert(entry.path).inserted { current?.append(entry) }
        }
        return listings
    }

    private static func parseEntry(_ line: String, fail: (String) -> ParseError) throws -> Entry {
        var rest = Substring(line)
        func field() -> String {
            rest = rest.drop(while: { $0 == " " })
            let f = rest.prefix(while: { $0 != " " })
            rest = rest.dropFirst(f.count)
            return String(f)
        }
        let type = field()
        guard let t = type.first, type.count == 1, let mode = UInt32(field(), radix: 8) else {
            throw fail("bad listing line: \(line)")
        }
        let sizeText = field()
        let third = field()
        var target: String?
        if t == "l" {
            guard third == "->" else { throw fail("symlink line without '->': \(line)") }
            target = unescape(field())
        }
        let path = unescape(String(rest.drop(while: { $0 == " " })))
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return Entry(type: t, mode: mode, size: Int64(sizeText), target: target, path: trimmed,
                     sha256: t == "f" && third.count == 64 ? third : nil)
    }

    /// Decodes the listing escapes `\n`, `\t`, `\\`, `\xNN`.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 1 < u.count {
                switch u[i + 1] {
                case UInt8(ascii: "n"): bytes.append(10); i += 2; continue
                case UInt8(ascii: "t"): bytes.append(9); i += 2; continue
                case UInt8(ascii: "\\"): bytes.append(92); i += 2; continue
                case UInt8(ascii: "x") where i + 3 < u.count:
                    if let b = UInt8(String(decoding: u[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                        bytes.append(b); i += 4; continue
                    }
                default: break
                }
            }
            bytes.append(u[i])
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
