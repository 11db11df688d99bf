import Testing
@testable import Kopia

struct ContentHasherTests {
    @Test func blake2b256_128IsTheTruncatedKeyedBlake2b256() throws {
        // kopia-format.md §16.5: test_repository's hello.txt.
        let secret = T.hex("9a95d781d0a0c45d5b189d51dad7c074b3de3b09bfe2d1a8b4ecbbc37048d9cc")
        let data = T.ascii("Hello, World!\n")
        #expect(Hex.encode(try ContentHasher(algorithm: .blake2b256_128, secret: secret).hash(data)) == "237d2c9632b6dcd944782b7aa3dcb6f9")
        #expect(Hex.encode(try ContentHasher(algorithm: .blake2b256, secret: secret).hash(data))
            == "237d2c9632b6dcd944782b7aa3dcb6f98c135732720cf6ace6cb3009fea38f5a")
    }

    struct Peer: Sendable, CustomTestStringConvertible {
        var algorithm: HashAlgorithm, python: String
        var testDescription: String { algorithm.rawValue }
    }

    // python3 hashlib/hmac expressions over key k and data d; the result is truncated to outputLength.
    static let peers: [Peer] = [
        Peer(algorithm: .blake2b256_128, python: "hashlib.blake2b(d, key=k, digest_size=32).digest()"),
        Peer(algorithm: .blake2b256, python: "hashlib.blake2b(d, key=k, digest_size=32).digest()"),
        Peer(algorithm: .blake2s128, python: "hashlib.blake2s(d, key=k, digest_size=16).digest()"),
        Peer(algorithm: .blake2s256, python: "hashlib.blake2s(d, key=k, digest_size=32).digest()"),
        Peer(algorithm: .hmacSHA256, python: "hmac.new(k, d, hashlib.sha256).digest()"),
        Peer(algorithm: .hmacSHA256_128, python: "hmac.new(k, d, hashlib.sha256).digest()"),
        Peer(algorithm: .hmacSHA224, python: "hmac.new(k, d, hashlib.sha224).digest()"),
        Peer(algorithm: .hmacSHA3_224, python: "hmac.new(k, d, hashlib.sha3_224).digest()"),
        Peer(algorithm: .hmacSHA3_256, python: "hmac.new(k, d, hashlib.sha3_256).digest()"),
    ]

    @Test(arguments: peers)
    func hashesMatchPythonHashlibOnManySizes(_ peer: Peer) throws {
        let secret = T.bytes(count: 32, seed: 99)
        let hasher = try ContentHasher(algorithm: peer.algorithm, secret: secret)
        #expect(hasher.algorithm == peer.algorithm)
        let sizes = [0, 1, 63, 64, 65, 127, 128, 129, 1000, 65_537]
        var input: [UInt8] = []
        var ours: [String] = []
        for size in sizes {
            let data = T.bytes(count: size, seed: UInt64(size) + 11)
            input += data
            let h = hasher.hash(data)
            #expect(h.count == peer.algorithm.outputLength)
            #expect(hasher.hash(data[...]) == h)
            ours.append(Hex.encode(h))
        }
        let script = """
        import hashlib, hmac, sys
        k = bytes.fromhex('\(Hex.encode(secret))'); buf = sys.stdin.buffer.read(); pos = 0
        for n in [\(sizes.map(String.init).joined(separator: ","))]:
            d = buf[pos:pos+n]; pos += n
            print((\(peer.python))[:\(peer.algorithm.outputLength)].hex())
        """
        let expected = String(decoding: try T.python(script, input: input), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(ours == expected)
    }

    @Test func hmacSHA256ContentIDsMatchKopiasRepositoryTest() throws {
        // kopia-format.md §16.3.
        let hasher = try ContentHasher(algorithm: .hmacSHA256, secret: T.ascii("a-repository-testing-hmac-secret"))
        let cases: [([UInt8], String)] = [
            ([], "0c2d44dc80de21b71d4219623082f5dc253fe9bb54e48b0fc90e118f8e6cf419"),
            (T.ascii("The quick brown fox jumps over the lazy dog"), "6bbb74fef0699e516fb96252d8280c1c7f3492e12de9ec6d79c3c9c39b7b0063"),
            (T.ascii("the quick brown fox jumps over the lazy dog"), "f65fc4107863281faaeb7087197c05ad59457362607330c665c86c852c5e5906"),
            ([UInt8](repeating: 0, count: 100), "bfa2b4b9421671ab2b5bfa8c90ee33607784a27e452b08556509ef9bd47a37c6"),
            ([UInt8](repeating: 0xcd, count: 50), "e37e93ba74e074ad1366ee2f032ee9c3a5b81ec82c140b053c1a4e6673d5d9d9"),
        ]
        for (data, id) in cases { #expect(Hex.encode(hasher.hash(data)) == id) }
        let fox = T.ascii("The quick brown fox jumps over the lazy dog")
        #expect(Hex.encode(try ContentHasher(algorithm: .hmacSHA256, secret: T.ascii("key")).hash(fox))
            == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(Hex.encode(try ContentHasher(algorithm: .hmacSHA256_128, secret: T.ascii("key")).hash(fox))
            == "f7bc83f430538424b13298e6aa6fb143")
    }

    @Test func hmacHashesAcceptAnEmptySecret() throws {
        let ours = try ContentHasher(algorithm: .hmacSHA256, secret: []).hash(T.ascii("abc"))
        let expected = try T.python("import hmac,hashlib,sys; sys.stdout.write(hmac.new(b'', b'abc', hashlib.sha256).hexdigest())")
        #expect(Hex.encode(ours) == String(decoding: expected, as: UTF8.self))
    }

    @Test func hashNamesParseAndUnknownNamesAreNamed() throws {
        for a in HashAlgorithm.allCases { #expect(try HashAlgorithm(name: a.rawValue) == a) }
        let error = #expect(throws: KopiaError.self) { try HashAlgorithm(name: "MD5") }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("\"MD5\"") == true)
    }

    @Test func blake2sRejectsAnEmptyOrOversizedSecret() {
        let error = #expect(throws: KopiaError.self) { try ContentHasher(algorithm: .blake2s128, secret: []) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("BLAKE2S-128 requires a non-empty HMAC secret") == true)
        #expect(throws: KopiaError(.invalidArgument, "")) { try ContentHasher(algorithm: .blake2s256, secret: [UInt8](repeating: 1, count: 33)) }
        #expect(throws: KopiaError(.invalidArgument, "")) { try ContentHasher(algorithm: .blake2b256, secret: [UInt8](repeating: 1, count: 65)) }
    }

    // An empty secret: Kopia hashes with blake2b.New256(nil) / blake2s.New256(nil), i.e. unkeyed.
    static let unkeyedPeers: [Peer] = [
        Peer(algorithm: .blake2b256_128, python: "hashlib.blake2b(d, digest_size=32).digest()"),
        Peer(algorithm: .blake2b256, python: "hashlib.blake2b(d, digest_size=32).digest()"),
        Peer(algorithm: .blake2s256, python: "hashlib.blake2s(d, digest_size=32).digest()"),
    ]

    @Test(arguments: unkeyedPeers)
    func anEmptySecretMeansTheUnkeyedHash(_ peer: Peer) throws {
        let hasher = try ContentHasher(algorithm: peer.algorithm, secret: [])
        let sizes = [0, 1, 64, 127, 128, 129, 4096, 100_003]
        var input: [UInt8] = []
        var ours: [String] = []
        for size in sizes {
            let data = T.bytes(count: size, seed: UInt64(size) + 71)
            input += data
            let h = hasher.hash(data)
            #expect(h.count == peer.algorithm.outputLength)
            ours.append(Hex.encode(h))
        }
        let script = """
        import hashlib, sys
        buf = sys.stdin.buffer.read(); pos = 0
        for n in [\(sizes.map(String.init).joined(separator: ","))]:
            d = buf[pos:pos+n]; pos += n
            print((\(peer.python))[:\(peer.algorithm.outputLength)].hex())
        """
        let expected = String(decoding: try T.python(script, input: input), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(ours == expected)
    }

    @Test func unkeyedBlake2b256IsNotBlake2b512Truncated() throws {
        // The digest length is part of BLAKE2's parameter block: hashlib's blake2b-256 of "abc".
        let h = try ContentHasher(algorithm: .blake2b256, secret: []).hash(T.ascii("abc"))
        #expect(Hex.encode(h) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }
}
