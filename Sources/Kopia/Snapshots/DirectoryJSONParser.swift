/// A fast parser for the directory objects Kopia (and Ferry) write (kopia-format.md §12.1): one pass over the
/// bytes, no intermediate JSON tree, no `Decoder` machinery — several times faster than Foundation's
/// `JSONDecoder` on listings of thousands of entries, which restores and incremental backups read by the
/// thousand.
///
/// It accepts exactly the JSON shape Kopia writes — objects, arrays, strings, integers, `true`/`false`/`null` —
/// and skips unknown keys. Anything it does not handle (a fractional or exponent number, invalid UTF-8, a type
/// mismatch, malformed JSON) makes it return nil; `Directory.parse` then falls back to `JSONDecoder`, which
/// decides whether the document is valid and words the error. So the fast path can only agree with the slow one.
///
/// Pure and bounds-checked: every read goes through `peek`/`next`, which stop at the end of the input.
struct DirectoryJSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    /// Parses a whole directory document; nil when the fast path does not apply (see the type's doc).
    static func parse(_ data: [UInt8]) -> (stream: String?, entries: [DirectoryEntry]?, summary: DirectorySummary?)? {
        data.withUnsafeBytes { raw in
            var p = DirectoryJSONParser(bytes: raw)
            return p.document()
        }
    }

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    private mutating func document() -> (String?, [DirectoryEntry]?, DirectorySummary?)? {
        var stream: String?
        var entries: [DirectoryEntry]?
        var summary: DirectorySummary?
        let ok = object { p, key in
            switch key {
            case "stream": stream = p.optionalString()
            case "entries":
                if p.literal("null") { entries = nil; return true }
                var list: [DirectoryEntry] = []
                guard p.array({ p in
                    guard let e = p.entry() else { return false }
                    list.append(e)
                    return true
                }) else { return false }
                entries = list
            case "summary":
                if p.literal("null") { summary = nil; return true }
                guard let s = p.summary() else { return false }
                summary = s
            default: return p.skipValue()
            }
            return true
        }
        skipSpace()
        guard ok, i == bytes.count else { return nil }
        return (stream, entries, summary)
    }

    private mutating func entry() -> DirectoryEntry? {
        var name: String?
        var type = ""
        var mode: String?
        var size: Int64 = 0
        var mtime: KopiaTime?
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var obj: ObjectID?
        var summ: DirectorySummary?
        let ok = object { p, key in
            switch key {
            case "name":
                guard let s = p.string() else { return false }
                name = s
            case "type":
                if p.literal("null") { return true }
                guard let s = p.string() else { return false }
                type = s
            case "mode":
                if p.literal("null") { mode = nil; return true }
                guard let s = p.string() else { return false }
                mode = s
            case "size":
                if p.literal("null") { return true }
                guard let v = p.integer() else { return false }
                size = v
            case "mtime":
                if p.literal("null") { return true }
                guard let s = p.string(), let t = try? KopiaTime(rfc3339: s) else { return false }
                mtime = t
            case "uid", "gid":
                if p.literal("null") { return true }
                guard let v = p.integer(), let u = UInt32(exactly: v) else { return false }
                if key == "uid" { uid = u } else { gid = u }
            case "obj":
                guard let s = p.string(), let id = try? ObjectID(parsing: s) else { return false }
                obj = id
            case "summ":
                if p.literal("null") { summ = nil; return true }
                guard let s = p.summary() else { return false }
                summ = s
            default: return p.skipValue()
            }
            return true
        }
        guard ok, let name, let obj else { return nil }
        var permissions = FilePermissions(rawValue: 0)
        if let mode {
            guard let parsed = try? FilePermissions(kopiaMode: mode) else { return nil }
            permissions = parsed
        }
        return DirectoryEntry(name: name, type: EntryType(kopiaLetter: type), permissions: permissions, size: size,
                              modified: mtime ?? KopiaTime(seconds: 0), uid: uid, gid: gid, objectID: obj,
                              summary: summ)
    }

    private mutating func summary() -> DirectorySummary? {
        var size: Int64 = 0, files: Int64 = 0, symlinks: Int64 = 0, dirs: Int64 = 0
        var failed: Int64 = 0, ignored: Int64 = 0
        var maxTime: KopiaTime?
        var incomplete: String?
        var errors: [DirectorySummary.EntryError] = []
        let ok = object { p, key in
            switch key {
            case "size", "files", "symlinks", "dirs", "numFailed", "numIgnoredErrors":
                if p.literal("null") { return true }
                guard let v = p.integer() else { return false }
                switch key {
                case "size": size = v
                case "files": files = v
                case "symlinks": symlinks = v
                case "dirs": dirs = v
                case "numFailed": failed = v
                default: ignored = v
                }
            case "maxTime":
                if p.literal("null") { maxTime = nil; return true }
                guard let s = p.string(), let t = try? KopiaTime(rfc3339: s) else { return false }
                maxTime = t
            case "incomplete":
                incomplete = p.optionalString()
                return incomplete != nil || p.lastWasNull
            case "errors":
                if p.literal("null") { return true }
                return p.array { p in
                    var path: String?
                    var error: String?
                    guard p.object({ p, key in
                        switch key {
                        case "path": path = p.string(); return path != nil
                        case "error": error = p.string(); return error != nil
                        default: return p.skipValue()
                        }
                    }), let path, let error else { return false }
                    errors.append(DirectorySummary.EntryError(path: path, error: error))
                    return true
                }
            default: return p.skipValue()
            }
            return true
        }
        guard ok else { return nil }
        return DirectorySummary(totalSize: size, fileCount: files, symlinkCount: symlinks, dirCount: dirs,
                                maxModTime: maxTime, incompleteReason: incomplete, failedCount: failed,
                                ignoredErrorCount: ignored, errors: errors)
    }

    // MARK: - JSON primitives

    private var lastWasNull = false

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    /// Consumes `c` (after whitespace) when it is next.
    private mutating func consume(_ c: UInt8) -> Bool {
        skipSpace()
        guard peek() == c else { return false }
        i += 1
        return true
    }

    /// Consumes the literal `word` (after whitespace) when it is next.
    private mutating func literal(_ word: StaticString) -> Bool {
        skipSpace()
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        for k in 0..<n where bytes[i + k] != w[k] { return false }
        i += n
        return true
    }

    /// `{ "key": value, … }`, calling `field` for each key with the parser positioned at its value.
    private mutating func object(_ field: (inout DirectoryJSONParser, String) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            guard let key = string(), consume(UInt8(ascii: ":")), field(&self, key) else { return false }
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "}"))
        }
    }

    /// `[ value, … ]`, calling `element` for each element.
    private mutating func array(_ element: (inout DirectoryJSONParser) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        while true {
            guard element(&self) else { return false }
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "]"))
        }
    }

    /// A string, or nil for `null` (sets `lastWasNull`) or anything else.
    private mutating func optionalString() -> String? {
        lastWasNull = literal("null")
        return lastWasNull ? nil : string()
    }

    /// A JSON string; nil for malformed escapes or invalid UTF-8.
    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = i
        // Fast path: no escapes, ASCII or valid UTF-8.
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { return nil }
            i += 1
        }
        guard i < bytes.count else { return nil }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek() else { return nil }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        return nil
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: return nil
                }
            default:
                if c < 0x20 { return nil }
                out.append(c)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
            default: return nil
            }
        }
        return v
    }

    /// An integer (no fraction, no exponent — those go to the slow path); nil on overflow.
    private mutating func integer() -> Int64? {
        skipSpace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var v: Int64 = 0
        var digits = 0
        while let c = peek(), c >= 0x30, c <= 0x39 {
            let d = Int64(c - 0x30)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            v = s
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
        return v
    }

    /// Skips any value (unknown keys), with a nesting limit.
    private mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        skipSpace()
        guard let c = peek() else { return false }
        switch c {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"): return object { p, _ in p.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): return array { p in p.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return integer() != nil
        }
    }
}
