import Testing
@testable import Kopia

struct BLAKE2bTests {
    @Test func matchesTheRFC7693Example() {
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        let digest = T.ascii("abc").withUnsafeBytes { BLAKE2b.hash($0, digestLength: 64) }
        #expect(Hex.encode(digest) == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test func matchesTheKeyedReferenceVectorForAnEmptyMessage() {
        // blake2b-kat.txt (BLAKE2 reference package), key 00..3f, empty input.
        let key = (0..<64).map { UInt8($0) }
        let digest = [UInt8]().withUnsafeBytes { BLAKE2b.hash($0, digestLength: 64, key: key) }
        #expect(Hex.encode(digest) == "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
    }

    struct Variant: Sendable, CustomTestStringConvertible {
        var digestLength: Int, keyLength: Int
        var testDescription: String { "digest \(digestLength), key \(keyLength)" }
    }

    @Test(arguments: [Variant(digestLength: 32, keyLength: 0), Variant(digestLength: 64, keyLength: 0),
                      Variant(digestLength: 16, keyLength: 0), Variant(digestLength: 32, keyLength: 32),
                      Variant(digestLength: 20, keyLength: 64)])
    func matchesPythonHashlibOnBlockBoundaries(_ variant: Variant) throws {
        let key = T.bytes(count: variant.keyLength, seed: 5)
        let sizes = [0, 1, 3, 111, 112, 127, 128, 129, 255, 256, 257, 1000, 65_537]
        var input: [UInt8] = []
        var ours: [String] = []
        for size in sizes {
            let data = T.bytes(count: size, seed: UInt64(size) + 3)
            input += data
            ours.append(Hex.encode(data.withUnsafeBytes { BLAKE2b.hash($0, digestLength: variant.digestLength, key: key) }))
        }
        let script = """
        import hashlib, sys
        k = bytes.fromhex('\(Hex.encode(key))'); buf = sys.stdin.buffer.read(); pos = 0
        for n in [\(sizes.map(String.init).joined(separator: ","))]:
            d = buf[pos:pos+n]; pos += n
            print(hashlib.blake2b(d, key=k, digest_size=\(variant.digestLength)).hexdigest())
        """
        let expected = String(decoding: try T.python(script, input: input), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(ours == expected)
    }
}
