import Testing
@testable import Kopia

/// BLAKE3 against the `blake3` PyPI package (the official Rust implementation's Python binding).
struct BLAKE3Tests {
    // The input lengths of the official test_vectors.json; input byte i is i % 251.
    static let lengths = [0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097,
                          5120, 5121, 6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400]
    static let key = Array("whats the Elephant? Seven of Nine".utf8.prefix(32))

    private func input(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 251) } }

    @Test func emptyInputHashesToTheKnownValue() {
        #expect(Hex.encode([UInt8]().withUnsafeBytes { BLAKE3().hash($0) })
            == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")
    }

    @Test func hashKeyedHashAndDeriveKeyMatchTheReference() throws {
        var ours: [String] = []
        for n in Self.lengths {
            let data = input(n)
            let plain = data.withUnsafeBytes { BLAKE3().hash($0) }
            let keyed = data.withUnsafeBytes { BLAKE3(key: Self.key).hash($0) }
            let derived = BLAKE3.deriveKey(context: "BLAKE3 2019-12-27 16:29:52 test vectors context", material: data)
            ours.append("\(Hex.encode(plain)) \(Hex.encode(keyed)) \(Hex.encode(derived))")
        }
        let script = """
        import blake3
        key = bytes.fromhex('\(Hex.encode(Self.key))')
        ctx = 'BLAKE3 2019-12-27 16:29:52 test vectors context'
        for n in [\(Self.lengths.map(String.init).joined(separator: ","))]:
            d = bytes(i % 251 for i in range(n))
            print(blake3.blake3(d).hexdigest(), blake3.blake3(d, key=key).hexdigest(),
                  blake3.blake3(d, derive_key_context=ctx).hexdigest())
        """
        let expected = String(decoding: try T.python(script), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(ours == expected)
    }

    @Test(arguments: [0, 5, 31, 32, 40])
    func kopiaContentHashesUseDerivedOrTruncatedKeys(_ secretLength: Int) throws {
        let secret = T.bytes(count: secretLength, seed: UInt64(secretLength) + 3)
        let data = T.text(count: 5000, seed: 4)
        let full = try ContentHasher(algorithm: .blake3_256, secret: secret).hash(data)
        let short = try ContentHasher(algorithm: .blake3_256_128, secret: secret).hash(data)
        #expect(Array(full.prefix(16)) == short)
        // kopia/kopia repo/hashing/blake3_hashes.go: len(secret) < 32 → derive_key("kopia blake3 derived key v1", secret).
        let script = """
        import blake3, sys
        s = bytes.fromhex('\(Hex.encode(secret))')
        k = blake3.blake3(s, derive_key_context='kopia blake3 derived key v1').digest() if len(s) < 32 else s[:32]
        sys.stdout.write(blake3.blake3(sys.stdin.buffer.read(), key=k).hexdigest())
        """
        #expect(Hex.encode(full) == String(decoding: try T.python(script, input: data), as: UTF8.self))
    }
}
