import Foundation
import Testing
import KopiaTestSupport
@testable import Kopia

/// The password → config → content-key chain on real format blobs (kopia-format.md §2.3, §4.1, §16.5).
struct KeyChainTests {
    struct Chain: Sendable, CustomTestStringConvertible {
        var name: String, password: String, uniqueID: String, formatKey: String, aesKey: String, authData: String
        var masterKey: String, secret: String, kEnc: String
        var testDescription: String { name }
    }

    static let chains: [Chain] = [
        Chain(name: "fs-default", password: "fixture-password",
              uniqueID: "6cb588f03ac2dd5a63aca425131c9e498e67d2b1a5f3c3d59c0819807b0c4056",
              formatKey: "60aa578151a5c6173df574d6b24b27ad14f67ae49acfdc93b0217350a7db7ce1",
              aesKey: "5b14679e1f429e6596aa63766dfbc59b9dca842dbfe1f9e4a6c8a68431943db3",
              authData: "1ad0b3c85a4eaa9f28b742d18ab85fe715a6031da0847345e3ad6fd62923c04f",
              masterKey: "b5441eb63418fa8243c0ace9b567c6ad73b7af2599d398c196610726fe176a6c",
              secret: "53f80c507923a427fffee6a4869ce673020bc6760f6e47863a3506c0ed751c4c",
              kEnc: "56520413a5c1660241d4624b217f78c71f6641bc2b1131dd01b94d97f8b2841d"),
        Chain(name: "fs-zstd-chacha", password: "fixture-password",
              uniqueID: "70e3a602f55509419b45ef1d2f78dde109943eb757c6efe965f48658533b3f07",
              formatKey: "87e595bd4d343c90ec11e96b8a537de32de72c19be4f19bbb8958d78e018c13c",
              aesKey: "c799a3769803d997920b89e8bd2f318ccbf344ac2bbd9faf16094917da6f116b",
              authData: "ef5f72892dbe929f92d82ed170dc0b61ad13f7c04c9a5afc2b824d09f6a217dd",
              masterKey: "cde6aa37fad21f453386c34e05a5fc1a15028694a8fb25b84d2a769c18325e94",
              secret: "27afae3f92ee188cf6a72f3f65039f345a7bcf3e6f52d5ae302d077cdc545da3",
              kEnc: "9266edc56ac19fb89416b23428bdebbfd8346c0408c34a3656cf4c3b75c83c4e"),
    ]

    @Test(arguments: chains)
    func fixtureFormatBlobDecryptsThroughTheWholeKeyChain(_ c: Chain) throws {
        let url = Fixtures.kopia(c.name).appendingPathComponent("kopia.repository.f")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let uniqueID = try base64(json["uniqueID"])
        let block = try base64(json["encryptedBlockFormat"])
        #expect(Hex.encode(uniqueID) == c.uniqueID)

        let formatKey = try PasswordKeyAlgorithm(name: json["keyAlgo"] as? String ?? "").deriveKey(password: c.password, salt: uniqueID)
        #expect(Hex.encode(formatKey) == c.formatKey)
        let aesKey = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: T.ascii("AES"), length: 32)
        let authData = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: T.ascii("CHECKSUM"), length: 32)
        #expect(Hex.encode(aesKey) == c.aesKey)
        #expect(Hex.encode(authData) == c.authData)

        let plain = try AESGCM.open(key: aesKey, nonce: Array(block[0..<12]), ciphertextAndTag: block[12...], aad: authData)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(plain)) as? [String: Any])
        let format = try #require(config["format"] as? [String: Any])
        let masterKey = try base64(format["masterKey"])
        let secret = try base64(format["secret"])
        #expect(Hex.encode(masterKey) == c.masterKey)
        #expect(Hex.encode(secret) == c.secret)

        let kEnc = try KeyDerivation.hkdfSHA256(key: masterKey, salt: T.ascii("encryption"), info: [], length: 32)
        #expect(Hex.encode(kEnc) == c.kEnc)
        // The names in the config parse into our algorithm enums.
        let hashName = try #require(format["hash"] as? String)
        let encryptionName = try #require(format["encryption"] as? String)
        _ = try HashAlgorithm(name: hashName)
        _ = try EncryptionAlgorithm(name: encryptionName)

        // A wrong password fails authentication rather than yielding garbage.
        var wrongKey = aesKey
        wrongKey[0] ^= 1
        #expect(throws: KopiaError(.corruptContent, "")) {
            try AESGCM.open(key: wrongKey, nonce: Array(block[0..<12]), ciphertextAndTag: block[12...], aad: authData)
        }
    }

    private func base64(_ value: Any?) throws -> [UInt8] {
        let text = try #require(value as? String)
        let data = try #require(Data(base64Encoded: text))
        return Array(data)
    }

    @Test func publicTestRepositoryScryptKeyMatches() throws {
        // shitcoding/kopia-android test_repository (§16.5).
        let key = try PasswordKeyAlgorithm.scrypt65536_8_1.deriveKey(
            password: "test123", salt: T.hex("69dad2c3657ca8c22041170b8f8c75a02aa5bc715f9fd8384edd1a5072a01c36"))
        #expect(Hex.encode(key) == "b6e38a2d265a4c140faf5a1ced40f45bc54e20c235e7e94c578712165602d42d")
    }
}
