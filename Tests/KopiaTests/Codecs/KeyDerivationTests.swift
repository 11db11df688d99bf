import Foundation
import Testing
import KopiaTestSupport
@testable import Kopia

struct KeyDerivationTests {
    @Test func hkdfMatchesKopiasKeyDerivationTestVector() throws {
        // kopia-format.md §16.1
        let out = try KeyDerivation.hkdfSHA256(key: T.ascii("ABCDEFGHIJKLMNOP"), salt: T.ascii("0123456789012345"),
                                               info: T.ascii("the-test-purpose"), length: 32)
        #expect(Hex.encode(out) == "828769ee8969bc37f11dbaa32838f8db6c19daa6e3ae5f5eed2da2d94d8faddb")
    }

    @Test func hkdfMatchesPythonForLongOutputs() throws {
        // RFC 5869 with python's hmac as the independent peer; 100 bytes crosses several expand blocks.
        let script = """
        import hmac, hashlib, sys
        ikm, salt, info = b'ikm-bytes', b'salt!', b'info?'
        prk = hmac.new(salt, ikm, hashlib.sha256).digest()
        t, out, i = b'', b'', 1
        while len(out) < 100:
            t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
        sys.stdout.write(out[:100].hex())
        """
        let expected = String(decoding: try T.python(script), as: UTF8.self)
        let out = try KeyDerivation.hkdfSHA256(key: T.ascii("ikm-bytes"), salt: T.ascii("salt!"), info: T.ascii("info?"), length: 100)
        #expect(Hex.encode(out) == expected)
    }

    @Test(arguments: [0, -1, 8161])
    func hkdfRejectsUnusableLengths(_ length: Int) {
        #expect(throws: KopiaError(.invalidArgument, "")) {
            try KeyDerivation.hkdfSHA256(key: [1], salt: [], info: [], length: length)
        }
    }

    @Test func hmacSHA256MatchesRFC4231Case2() {
        let mac = KeyDerivation.hmacSHA256(key: T.ascii("Jefe"), message: T.ascii("what do ya want for nothing?"))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func scryptMatchesRFC7914Vector() throws {
        // RFC 7914 §12, second vector (N=1024, r=8, p=16).
        let out = try KeyDerivation.scrypt(password: T.ascii("password"), salt: T.ascii("NaCl"), n: 1024, r: 8, p: 16, length: 64)
        #expect(Hex.encode(out) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    @Test func scryptRejectsNonPowerOfTwoN() {
        #expect(throws: KopiaError(.invalidArgument, "")) {
            try KeyDerivation.scrypt(password: [1], salt: [2], n: 1000, r: 8, p: 1, length: 32)
        }
    }

    @Test func pbkdf2MatchesRFC7914Vector() throws {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", c=1, dkLen=64).
        let out = try KeyDerivation.pbkdf2SHA256(password: T.ascii("passwd"), salt: T.ascii("salt"), iterations: 1, length: 64)
        #expect(Hex.encode(out) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    @Test func passwordAlgorithmNamesParseAndEmptyMeansScrypt() throws {
        #expect(try PasswordKeyAlgorithm(name: "") == .scrypt65536_8_1)
        #expect(try PasswordKeyAlgorithm(name: "pbkdf2-sha256-600000") == .pbkdf2SHA256_600000)
        let error = #expect(throws: KopiaError.self) { try PasswordKeyAlgorithm(name: "argon2id") }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("argon2id") == true)
    }

    @Test func pbkdf2PasswordAlgorithmMatchesPython() throws {
        let salt = T.bytes(count: 32, seed: 7)
        let expected = String(decoding: try T.python(
            "import hashlib,sys; sys.stdout.write(hashlib.pbkdf2_hmac('sha256', b'test123', bytes.fromhex('\(Hex.encode(salt))'), 600000, 32).hex())"),
            as: UTF8.self)
        let key = try PasswordKeyAlgorithm.pbkdf2SHA256_600000.deriveKey(password: "test123", salt: salt)
        #expect(Hex.encode(key) == expected)
    }

    @Test func shortSaltIsRefused() {
        #expect(throws: KopiaError(.invalidArgument, "")) {
            try PasswordKeyAlgorithm.scrypt65536_8_1.deriveKey(password: "x", salt: [1, 2, 3])
        }
    }
}
