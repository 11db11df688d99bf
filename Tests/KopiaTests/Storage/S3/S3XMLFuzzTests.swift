import Testing
@testable import Kopia

/// The S3 XML reader under random and mutated input (issue 17 item 9): every input either parses or throws its
/// `ParseError` with an offset inside the input; a listing built on it throws only `.storageFailure`.
struct S3XMLFuzzTests {
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
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>
        <NextContinuationToken>tok&amp;en</NextContinuationToken>
        <Contents><Key>p/q&lt;1&gt;</Key><Size>12</Size><LastModified>2026-10-21T10:00:48.306Z</LastModified></Contents>
        <Contents><Key>x</Key><Size>0</Size></Contents><!-- c --><![CDATA[ignored]]></ListBucketResult>
        """,
        "<Error><Code>SlowDown</Code><Message>Please &#x52;educe</Message><Region>eu-west-1</Region></Error>",
    ].map { Array($0.utf8) }

    static func check(_ input: [UInt8], _ note: @autoclosure () -> String) {
        do {
            _ = try S3XMLElement.parse(input)
        } catch {
            #expect(error.offset >= 0 && error.offset <= input.count, "offset \(error.offset): \(note())")
        }
        do {
            _ = try S3ListObjectsPage.parse(input)
        } catch {
            #expect(error.code == .storageFailure, "\(error): \(note())")
        }
    }

    @Test(arguments: 0..<6)
    func mutatedDocumentsParseOrThrowAParseError(_ round: Int) {
        var rng = SplitMix(state: UInt64(round) &+ 1)
        let alphabet = Array("<>/!?-[]&;#x=\"' abcZ0123456789".utf8) + [0, 0x80, 0xFF]
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

    @Test func randomBytesParseOrThrowAParseError() {
        var rng = SplitMix(state: 7)
        for i in 0..<2000 {
            let bytes = [UInt8(ascii: "<")] + (0..<Int(rng.next() % 48)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            Self.check(bytes, "random \(i)")
        }
    }

    @Test func deepNestingAndEntityTricksAreRefused() {
        let deep = Array((String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)).utf8)
        #expect { _ = try S3XMLElement.parse(deep) } throws: { "\($0)".contains("nested too deeply") }
        let doctype = Array("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>".utf8)
        #expect { _ = try S3XMLElement.parse(doctype) } throws: { "\($0)".contains("DOCTYPE") }
    }
}
