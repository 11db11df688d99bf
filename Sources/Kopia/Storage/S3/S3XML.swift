/// A minimal, bounds-checked XML reader for S3 responses (ListObjectsV2 results and error documents).
///
/// Supports what S3 servers send: an optional `<?xml …?>` declaration, comments, elements with attributes
/// (ignored), self-closing tags, text with the five predefined entities and numeric character references, and
/// CDATA. No DTDs (a `<!DOCTYPE` is refused: S3 never sends one and it is how entity-expansion attacks start).
/// Namespace prefixes are stripped from element names. Malformed input throws; nothing traps.
struct S3XMLElement: Sendable, Equatable {
    var name: String
    var text: String
    var children: [S3XMLElement]

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }
    /// Every child named `name`, in document order.
    func children(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    struct ParseError: Error, Sendable, CustomStringConvertible {
        var reason: String
        var offset: Int
        var description: String { "malformed XML at byte \(offset): \(reason)" }
    }

    /// Parses a document and returns its root element.
    static func parse(_ bytes: [UInt8]) throws(ParseError) -> S3XMLElement {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var pos = 0
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ reason: String) -> ParseError { ParseError(reason: reason, offset: pos) }

        func peek(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard pos + u.count <= bytes.count else { return false }
            return Array(bytes[pos..<pos + u.count]) == u
        }

        mutating func skip(past terminator: String) throws(ParseError) {
            let u = Array(terminator.utf8)
            while pos + u.count <= bytes.count {
                if Array(bytes[pos..<pos + u.count]) == u {
                    pos += u.count
                    return
                }
                pos += 1
            }
            throw fail("missing \(terminator)")
        }

        mutating func skipWhitespace() {
            while pos < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[pos]) { pos += 1 }
        }

        /// Skips declarations, processing instructions, comments and whitespace between markup.
        mutating func skipMisc() throws(ParseError) {
            while true {
                skipWhitespace()
                if peek("<?") { try skip(past: "?>") } else if peek("<!--") { try skip(past: "-->") } else { return }
            }
        }

        mutating func document() throws(ParseError) -> S3XMLElement {
            if peek("\u{FEFF}") { pos += 3 }
            try skipMisc()
            if peek("<!DOCTYPE") || peek("<!doctype") { throw fail("DOCTYPE is not accepted") }
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "<") else { throw fail("no root element") }
            let root = try element()
            try skipMisc()
            guard pos == bytes.count else { throw fail("content after the root element") }
            return root
        }

        mutating func name() throws(ParseError) -> String {
            let start = pos
            while pos < bytes.count {
                let c = bytes[pos]
                if [0x20, 0x09, 0x0a, 0x0d, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "=")].contains(c) { break }
                pos += 1
            }
            guard pos > start else { throw fail("expected a name") }
            let full = String(decoding: bytes[start..<pos], as: UTF8.self)
            if let colon = full.lastIndex(of: ":") { return String(full[full.index(after: colon)...]) }
            return full
        }

        /// Parses `<name attrs…>children</name>` or `<name …/>`, starting at `<`.
        mutating func element() throws(ParseError) -> S3XMLElement {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 64 else { throw fail("elements nested too deeply") }
            pos += 1  // "<"
            let tag = try name()
            // Attributes: skip, honouring quotes.
            while true {
                skipWhitespace()
                guard pos < bytes.count else { throw fail("unterminated start tag <\(tag)>") }
                let c = bytes[pos]
                if c == UInt8(ascii: "/") {
                    guard pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: ">") else { throw fail("bad '/'") }
                    pos += 2
                    return S3XMLElement(name: tag, text: "", children: [])
                }
                if c == UInt8(ascii: ">") {
                    pos += 1
                    break
                }
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    pos += 1
                    while pos < bytes.count, bytes[pos] != c { pos += 1 }
                    guard pos < bytes.count else { throw fail("unterminated attribute value") }
                    pos += 1
                } else {
                    pos += 1
                }
            }
            var text = [UInt8]()
            var children: [S3XMLElement] = []
            while true {
                guard pos < bytes.count else { throw fail("missing </\(tag)>") }
                if peek("</") {
                    pos += 2
                    let closing = try name()
                    skipWhitespace()
                    guard closing == tag, pos < bytes.count, bytes[pos] == UInt8(ascii: ">") else {
                        throw fail("</\(closing)> does not close <\(tag)>")
                    }
                    pos += 1
                    return S3XMLElement(name: tag, text: String(decoding: text, as: UTF8.self), children: children)
                } else if peek("<!--") {
                    try skip(past: "-->")
                } else if peek("<![CDATA[") {
                    pos += 9
                    let start = pos
                    try skip(past: "]]>")
                    text += bytes[start..<(pos - 3)]
                } else if peek("<?") {
                    try skip(past: "?>")
                } else if bytes[pos] == UInt8(ascii: "<") {
                    children.append(try element())
                } else if bytes[pos] == UInt8(ascii: "&") {
                    text += try entity()
                } else {
                    text.append(bytes[pos])
                    pos += 1
                }
            }
        }

        mutating func entity() throws(ParseError) -> [UInt8] {
            let start = pos
            while pos < bytes.count, bytes[pos] != UInt8(ascii: ";"), pos - start < 12 { pos += 1 }
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ";") else { throw fail("unterminated entity") }
            let body = String(decoding: bytes[(start + 1)..<pos], as: UTF8.self)
            pos += 1
            switch body {
            case "amp": return [UInt8(ascii: "&")]
            case "lt": return [UInt8(ascii: "<")]
            case "gt": return [UInt8(ascii: ">")]
            case "quot": return [UInt8(ascii: "\"")]
            case "apos": return [UInt8(ascii: "'")]
            default:
                var scalar: UInt32?
                if body.hasPrefix("#x") || body.hasPrefix("#X") {
                    scalar = UInt32(body.dropFirst(2), radix: 16)
                } else if body.hasPrefix("#") {
                    scalar = UInt32(body.dropFirst(), radix: 10)
                }
                guard let s = scalar, let u = Unicode.Scalar(s) else { throw fail("unknown entity &\(body);") }
                return Array(String(Character(u)).utf8)
            }
        }
    }
}
