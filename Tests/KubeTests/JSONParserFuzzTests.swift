import Kube
import Testing

/// The Kube JSON parser under random and mutated input (issue 17 item 9): the test API server shares this parser,
/// so its own suite must attack it directly. Every input either parses — and then serializes back to a document
/// that parses to the same value — or throws a `SyntaxError` whose offset lies inside the input.
struct JSONParserFuzzTests {
    /// A small deterministic generator (SplitMix64), so a failure names a reproducible seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds: [[UInt8]] = [
        #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7","labels":{"x":"y"}},"spec":{"n":-1.5e3}}}"#,
        #"[1,2.5,-0,1e400,"\u00e9\ud83d\ude00",true,false,null,{},[]]"#,
        #"{"kind":"Status","code":410,"reason":"Expired","details":{"causes":[{"field":"a\"b"}]}}"#,
        "  \"plain\"  ", "12345678901234567890123", "{\"a\":{\"b\":{\"c\":[[[[]]]]}}}",
    ].map { Array($0.utf8) }

    static func check(_ input: [UInt8], _ note: @autoclosure () -> String) {
        do {
            let value = try JSONCoding.parse(input)
            let again = try JSONCoding.parse(JSONCoding.serialize(value))
            #expect(Self.same(again, value), "round trip changed the value: \(note())")
        } catch {
            #expect(error.offset >= 0 && error.offset <= input.count, "offset \(error.offset) outside: \(note())")
            #expect(!error.reason.isEmpty)
        }
    }

    /// Equal as JSON: numbers compare by value (the serializer writes an integral double as an integer).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        default: return a == b
        }
    }

    @Test(arguments: 0..<8)
    func mutatedDocumentsParseOrThrowASyntaxError(_ round: Int) {
        var rng = SplitMix(state: UInt64(round) &* 7919)
        let alphabet = Array(#"{}[]":,.-+eE0123456789truefalsnul\ "#.utf8) + [0, 0x80, 0xC3, 0xFF]
        for iteration in 0..<400 {
            var doc = Self.seeds[Int(rng.next() % UInt64(Self.seeds.count))]
            for _ in 0..<Int(rng.next() % 4) + 1 {
                let at = doc.isEmpty ? 0 : Int(rng.next() % UInt64(doc.count))
                switch rng.next() % 4 {
                case 0 where !doc.isEmpty: doc.remove(at: at)
                case 1: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                case 2 where !doc.isEmpty: doc[at] ^= UInt8(truncatingIfNeeded: rng.next()) | 1
                default: doc = Array(doc.prefix(at))
                }
            }
            Self.check(doc, "round \(round) iteration \(iteration)")
        }
    }

    @Test func randomBytesParseOrThrowASyntaxError() {
        var rng = SplitMix(state: 42)
        for i in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            Self.check(bytes, "random \(i)")
        }
    }

    @Test func deepNestingIsRefusedNotARecursionCrash() {
        for open in ["[", "{\"a\":"] {
            let doc = Array(String(repeating: open, count: 100_000).utf8)
            #expect { _ = try JSONCoding.parse(doc) } throws: { "\($0)".contains("nesting too deep") }
        }
    }

    @Test(arguments: ["", " ", "{", "[1,", "{\"a\"", "{\"a\":}", "\"\\u12\"", "\"\\ud800\"x", "01", "-", "1e", "nul", "[1]]",
                      "1.", "-.5", ".5", "+1", "1e400", "-1e999", "1.5e+", "0x10", "--1", "1-2"])
    func truncatedOrMalformedDocumentsThrow(_ text: String) {
        #expect(throws: JSONCoding.SyntaxError.self) { _ = try JSONCoding.parse(text) }
    }
}
