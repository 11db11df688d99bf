import Testing
@testable import Kopia

struct ContentCipherTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var algorithm: EncryptionAlgorithm, iv: String, plaintext: String, ciphertext: String
        var testDescription: String { "\(algorithm.rawValue) \(plaintext.prefix(10))" }
    }

    // kopia-format.md §16.2 (kopia/kopia TestCiphertextSamples).
    static let samples: [Sample] = [
        Sample(algorithm: .aes256GCMHMACSHA256, iv: "aabbccddeeffgghhiijjkkllmmnnoopp", plaintext: "foo",
               ciphertext: "e43ba07f85a6d70c5f1102ca06cf19c597e5f91e527b21f00fb76e8bec3fd1"),
        Sample(algorithm: .chacha20Poly1305HMACSHA256, iv: "aabbccddeeffgghhiijjkkllmmnnoopp", plaintext: "foo",
               ciphertext: "118359f3d4d589d939efbbc3168ae4c77c51bcebce6845fe6ef5d11342faa6"),
        Sample(algorithm: .aes256GCMHMACSHA256, iv: "00000000000000000000000000000000",
               plaintext: "quick brown fox jumps over the lazy dog",
               ciphertext: "eaad755a238f1daa4052db2e5ccddd934790b6cca415b3ccfd46ac5746af33d9d30f4400ffa9eb3a64fb1ce21b888c12c043bf6787d4a5c15ad10f21f6a6027ee3afe0"),
        Sample(algorithm: .chacha20Poly1305HMACSHA256, iv: "00000000000000000000000000000000",
               plaintext: "quick brown fox jumps over the lazy dog",
               ciphertext: "836d2ba87892711077adbdbe1452d3b2c590bbfdf6fd3387dc6810220a32ec19de862e1a4f865575e328424b5f178afac1b7eeff11494f719d119b7ebb924d1d0846a3"),
    ]
    static let masterKey = T.ascii("01234567890123456789012345678901")

    @Test(arguments: samples)
    func kopiaCiphertextSamplesDecrypt(_ s: Sample) throws {
        let cipher = try ContentCipher(algorithm: s.algorithm, masterKey: Self.masterKey)
        let plain = try cipher.decrypt(T.hex(s.ciphertext), iv: T.ascii(s.iv))
        #expect(String(decoding: plain, as: UTF8.self) == s.plaintext)
    }

    @Test(arguments: samples)
    func encryptingWithTheSampleNonceReproducesTheSample(_ s: Sample) throws {
        let cipher = try ContentCipher(algorithm: s.algorithm, masterKey: Self.masterKey)
        let expected = T.hex(s.ciphertext)
        let out = try cipher.encrypt(T.ascii(s.plaintext), iv: T.ascii(s.iv), nonce: Array(expected.prefix(12)))
        #expect(Hex.encode(out) == s.ciphertext)
    }

    @Test func perContentKeysMatchTheIntermediateValues() throws {
        let cipher = try ContentCipher(algorithm: .aes256GCMHMACSHA256, masterKey: Self.masterKey)
        #expect(Hex.encode(cipher.contentKey(iv: T.ascii("aabbccddeeffgghhiijjkkllmmnnoopp")))
            == "6c82491c819ee6c89e7bdd065cca8b86c314a7d950dffa92e1c30506f60463ea")
        #expect(Hex.encode(cipher.contentKey(iv: T.ascii("00000000000000000000000000000000")))
            == "e09bf92edcc7890a612c60ef1df18a8affff56d9fecfc7cb0585f1b73eb43169")
    }

    @Test(arguments: EncryptionAlgorithm.allCases)
    func randomNonceRoundTripsAndNeverRepeats(_ algorithm: EncryptionAlgorithm) throws {
        let cipher = try ContentCipher(algorithm: algorithm, masterKey: T.bytes(count: 32, seed: 1))
        let iv = T.bytes(count: 16, seed: 2)
        for size in [0, 1, 15, 16, 17, 4096, 100_003] {
            let data = T.bytes(count: size, seed: UInt64(size))
            let a = try cipher.encrypt(data, iv: iv)
            let b = try cipher.encrypt(data, iv: iv)
            #expect(a.count == size + ContentCipher.overhead)
            #expect(a.prefix(12) != b.prefix(12))
            #expect(try cipher.decrypt(a, iv: iv) == data)
            #expect(try cipher.decrypt(a[...], iv: iv) == data)
        }
    }

    @Test(arguments: EncryptionAlgorithm.allCases)
    func damagedOrTruncatedCiphertextThrowsCorruptContent(_ algorithm: EncryptionAlgorithm) throws {
        let cipher = try ContentCipher(algorithm: algorithm, masterKey: T.bytes(count: 32, seed: 3))
        let iv = T.bytes(count: 16, seed: 4)
        let blob = try cipher.encrypt(T.bytes(count: 200, seed: 5), iv: iv)
        for bit in stride(from: 0, to: blob.count * 8, by: 7) {
            var damaged = blob
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: KopiaError(.corruptContent, "")) { try cipher.decrypt(damaged, iv: iv) }
        }
        for length in [0, 1, 12, 27, 28, 100, blob.count - 1] {
            #expect(throws: KopiaError(.corruptContent, "")) { try cipher.decrypt(blob.prefix(length), iv: iv) }
        }
        // The IV is authenticated (AAD) and keys the content: another IV fails.
        #expect(throws: KopiaError(.corruptContent, "")) { try cipher.decrypt(blob, iv: T.bytes(count: 16, seed: 6)) }
    }

    @Test func blobIVTakesTheLast32HexCharactersBeforeTheFirstDash() throws {
        #expect(Hex.encode(try ContentCipher.blobIV(forBlobID: "xn0_9272d5d82e8410d13dbede7d823494cb-sbe3e4d37a57d1f5f13d-c1"))
            == "9272d5d82e8410d13dbede7d823494cb")
        #expect(Hex.encode(try ContentCipher.blobIV(forBlobID: "n00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef"))
            == "0123456789abcdef0123456789abcdef")
        for bad in ["", "xn0_short-x", "q" + String(repeating: "z", count: 32), "-" + String(repeating: "a", count: 32)] {
            let error = #expect(throws: KopiaError.self) { try ContentCipher.blobIV(forBlobID: bad) }
            #expect(error?.code == .corruptBlob)
            #expect(error?.blobID == bad)
        }
    }

    @Test func encryptionNamesParseAndUnknownNamesAreNamed() throws {
        for a in EncryptionAlgorithm.allCases { #expect(try EncryptionAlgorithm(name: a.rawValue) == a) }
        let error = #expect(throws: KopiaError.self) { try EncryptionAlgorithm(name: "SALSA20-HMAC") }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("SALSA20-HMAC") == true)
    }

    @Test func aesGCMRejectsBadKeyAndNonceSizes() {
        #expect(throws: KopiaError(.invalidArgument, "")) { try AESGCM.seal(key: [1, 2], nonce: [UInt8](repeating: 0, count: 12), plaintext: [1], aad: []) }
        #expect(throws: KopiaError(.invalidArgument, "")) { try AESGCM.open(key: [UInt8](repeating: 0, count: 32), nonce: [1], ciphertextAndTag: [UInt8](repeating: 0, count: 20), aad: []) }
    }

    @Test func aesGCMMatchesNISTTestCase14() throws {
        // GCM spec (McGrew & Viega) test case 14: zero key, zero IV, one zero block.
        let sealed = try AESGCM.seal(key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12),
                                     plaintext: [UInt8](repeating: 0, count: 16), aad: [])
        #expect(Hex.encode(sealed) == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
    }
}
