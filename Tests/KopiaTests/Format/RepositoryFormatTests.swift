import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

struct RepositoryFormatTests {
    @Test(arguments: Fixtures.all)
    func everyFixtureOpensWithItsPassword(_ name: String) async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia(name).path)
        let format = try await RepositoryFormat.open(storage: storage, password: Fixtures.password)
        let p = format.parameters
        #expect(p.version == 3 && p.indexVersion == 2 && p.epochParameters.enabled)
        #expect(p.hash == (name == "fs-zstd-chacha" ? "BLAKE2B-256" : "BLAKE2B-256-128"))
        #expect(p.encryption == (name == "fs-zstd-chacha" ? "CHACHA20-POLY1305-HMAC-SHA256" : "AES256-GCM-HMAC-SHA256"))
        #expect(p.splitter == "DYNAMIC-4M-BUZHASH" && p.maxPackSize == 20 << 20 && p.ecc.isEmpty)
        #expect(p.masterKey.count == 32 && p.secret.count == 32 && p.enablePasswordChange)
        #expect(p.epochParameters.epochRefreshFrequencyNanoseconds == 1_200_000_000_000)
        #expect(format.blobConfig == BlobConfig())
        #expect(format.hashLength == (name == "fs-zstd-chacha" ? 32 : 16))
        #expect(format.formatBlob.buildVersion == "0.12.1" && format.formatBlob.keyAlgorithm == "scrypt-65536-8-1")
        #expect(!p.description.contains(Hex.encode(p.masterKey)))
    }

    struct KeyChain: Sendable {
        var fixture, uniqueID, formatKey, aesKey, authData, masterKey, secret: String
    }

    /// kopia-format.md §16.5, fixtures table.
    static let chains = [
        KeyChain(fixture: "fs-default",
                 uniqueID: "6cb588f03ac2dd5a63aca425131c9e498e67d2b1a5f3c3d59c0819807b0c4056",
                 formatKey: "60aa578151a5c6173df574d6b24b27ad14f67ae49acfdc93b0217350a7db7ce1",
                 aesKey: "5b14679e1f429e6596aa63766dfbc59b9dca842dbfe1f9e4a6c8a68431943db3",
                 authData: "1ad0b3c85a4eaa9f28b742d18ab85fe715a6031da0847345e3ad6fd62923c04f",
                 masterKey: "b5441eb63418fa8243c0ace9b567c6ad73b7af2599d398c196610726fe176a6c",
                 secret: "53f80c507923a427fffee6a4869ce673020bc6760f6e47863a3506c0ed751c4c"),
        KeyChain(fixture: "fs-zstd-chacha",
                 uniqueID: "70e3a602f55509419b45ef1d2f78dde109943eb757c6efe965f48658533b3f07",
                 formatKey: "87e595bd4d343c90ec11e96b8a537de32de72c19be4f19bbb8958d78e018c13c",
                 aesKey: "c799a3769803d997920b89e8bd2f318ccbf344ac2bbd9faf16094917da6f116b",
                 authData: "ef5f72892dbe929f92d82ed170dc0b61ad13f7c04c9a5afc2b824d09f6a217dd",
                 masterKey: "cde6aa37fad21f453386c34e05a5fc1a15028694a8fb25b84d2a769c18325e94",
                 secret: "27afae3f92ee188cf6a72f3f65039f345a7bcf3e6f52d5ae302d077cdc545da3"),
    ]

    @Test(arguments: chains)
    func keyChainMatchesTheSpecification(_ c: KeyChain) async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia(c.fixture).path)
        let blob = try FormatBlob.decode(try await storage.read(FormatBlob.blobID))
        #expect(Hex.encode(blob.uniqueID) == c.uniqueID)
        let keys = try FormatKeys(password: Fixtures.password, uniqueID: blob.uniqueID, keyAlgorithm: blob.keyAlgorithm)
        #expect(Hex.encode(keys.formatKey) == c.formatKey)
        #expect(Hex.encode(keys.aesKey) == c.aesKey)
        #expect(Hex.encode(keys.authData) == c.authData)
        let format = try await RepositoryFormat.open(storage: storage, password: Fixtures.password)
        #expect(Hex.encode(format.parameters.masterKey) == c.masterKey)
        #expect(Hex.encode(format.parameters.secret) == c.secret)
        // DeriveKey uses the master key on v2/v3 (§2.8).
        #expect(try format.deriveKey(purpose: "maintenance schedule", length: 32)
            == KeyDerivation.hkdfSHA256(key: format.parameters.masterKey, salt: blob.uniqueID,
                                        info: Array("maintenance schedule".utf8), length: 32))
    }

    @Test(arguments: ["wrong", "", "fixture-password ", "Fixture-password"])
    func aWrongPasswordSaysSo(_ password: String) async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia("fs-default").path)
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: storage, password: password)
        }
        #expect(error?.code == .wrongPassword)
        #expect(error?.message == "wrong password, or not a Kopia repository")
        #expect(error?.blobID == "kopia.repository")
    }

    @Test
    func anEmptyDirectoryIsNotARepository() async throws {
        let dir = try TemporaryDirectory.make("empty-repo")
        defer { dir.remove() }
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: try FilesystemStorage(root: dir.path), password: "x")
        }
        #expect(error?.code == .notARepository && error?.blobID == "kopia.repository")
        #expect(error?.message.contains(dir.path) == true)
    }

    @Test(arguments: ["", "hello", "{}", "[1,2]", #"{"uniqueID":"AAAA","encryptedBlockFormat":"AAAA"}"#,
                      #"{"uniqueID":"bLWI8DrC3VpjrKQlExyeSY5n0rGl88PVnAgZgHsMQFY="}"#])
    func aForeignFormatBlobIsNotARepository(_ body: String) async throws {
        let storage = InMemoryStorage(["kopia.repository": Array(body.utf8)])
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: storage, password: "x")
        }
        #expect(error?.code == .notARepository && error?.blobID == "kopia.repository")
    }

    @Test
    func anUnknownKeyAlgorithmIsNamed() async throws {
        let storage = try await InMemoryStorage.copy(of: try FilesystemStorage(root: Fixtures.kopia("fs-default").path))
        let json = String(decoding: try await storage.read("kopia.repository"), as: UTF8.self)
            .replacingOccurrences(of: "scrypt-65536-8-1", with: "argon2id-9000")
        try await storage.write("kopia.repository", Array(json.utf8))
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: storage, password: Fixtures.password)
        }
        #expect(error?.code == .unknownAlgorithm && error?.blobID == "kopia.repository")
        #expect(error?.description.contains("argon2id-9000") == true)
    }

    @Test
    func aDamagedBlobConfigIsNamedAndAMissingOneMeansNoRetention() async throws {
        let base = try await InMemoryStorage.copy(of: try FilesystemStorage(root: Fixtures.kopia("fs-default").path))
        let faulty = FaultyStorage(base)
        faulty.inject(.flipBit(offset: 20, bit: 3), into: "kopia.blobcfg")
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: faulty, password: Fixtures.password)
        }
        #expect(error?.code == .corruptBlob && error?.blobID == "kopia.blobcfg")
        faulty.inject(.missing, into: "kopia.blobcfg")
        #expect(try await RepositoryFormat.open(storage: faulty, password: Fixtures.password).blobConfig == BlobConfig())
    }
}
