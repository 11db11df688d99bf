/// A minimal JSON writer that emits what Go's `encoding/json` emits for Kopia's structs: fields in the order
/// given (Go writes struct fields in declaration order), `omitempty` handled by the caller, and strings escaped
/// like Go (`<`, `>`, `&`, U+2028 and U+2029 as `\u…`; invalid UTF-8 cannot occur in a Swift `String`).
struct GoJSON {
    private(set) var text = ""
    private var needsComma: [Bool] = []

    mutating func beginObject() { valuePrefix(); text += "{"; needsComma.append(false) }
    mutating func endObject() { text += "}"; needsComma.removeLast() }
    mutating func beginArray() { valuePrefix(); text += "["; needsComma.append(false) }
    mutating func endArray() { text += "]"; needsComma.removeLast() }

    /// Starts a field inside an object; follow with exactly one value.
    mutating func key(_ name: String) {
        if needsComma.last == true { text += "," }
        GoJSON.appendString(name, to: &text)
        text += ":"
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
        pendingKey = true
    }

    mutating func string(_ s: String) { valuePrefix(); GoJSON.appendString(s, to: &text) }
    mutating func int(_ v: some BinaryInteger) { valuePrefix(); text += "\(v)" }
    mutating func bool(_ v: Bool) { valuePrefix(); text += v ? "true" : "false" }
    mutating func null() { valuePrefix(); text += "null" }
    /// Inserts already-encoded JSON.
    mutating func raw(_ json: String) { valuePrefix(); text += json }

    mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    mutating func field(_ name: String, _ value: some BinaryInteger) { key(name); int(value) }
    mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }

    private var pendingKey = false

    private mutating func valuePrefix() {
        if pendingKey {
            pendingKey = false
        } else if needsComma.last == true {
            text += ","
        }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
    }

    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
