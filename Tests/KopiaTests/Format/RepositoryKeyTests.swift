import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// `RepositoryKey`: the key a password derives for one repository opens it again without the KDF, is refused by
/// any other repository, survives its text form, and never prints itself.
struct RepositoryKeyTests {
    static let logger = Logger(label: "test.key")

    @Test func theKeyAnOpenDerivedOpensTheRepositoryAgainWithTheSameSnapshots() async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia("fs-identities").path)
        let opened = try await KopiaRepository.open(storage: storage, password: Fixtures.password, logger: Self.logger)
        let text = opened.format.repositoryKey.encoded
        let key = try RepositoryKey(encoded: text)
        #expect(key == opened.format.repositoryKey)
        let again = try await KopiaRepository.open(storage: storage, unlock: .key(key), logger: Self.logger)
        #expect(again.catalog.snapshots.map(\.id) == opened.catalog.snapshots.map(\.id))
        #expect(again.format.repositoryKey == key)
    }

    @Test func aKeyForAnotherRepositoryIsAWrongPasswordNamingWhy() async throws {
        let identities = try FilesystemStorage(root: Fixtures.kopia("fs-identities").path)
        let key = try await KopiaRepository.open(storage: identities, password: Fixtures.password, logger: Self.logger).format.repositoryKey
        let other = try FilesystemStorage(root: Fixtures.kopia("fs-multichunk").path)
        await #expect(throws: KopiaError(.wrongPassword, "")) {
            _ = try await KopiaRepository.open(storage: other, unlock: .key(key), logger: Self.logger)
        }
        do { _ = try await KopiaRepository.open(storage: other, unlock: .key(key), logger: Self.logger) } catch let e as KopiaError {
            #expect(e.message.contains("another repository"))
        }
    }

    @Test func aTamperedKeyDoesNotOpenTheRepository() async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia("fs-identities").path)
        let key = try await KopiaRepository.open(storage: storage, password: Fixtures.password, logger: Self.logger).format.repositoryKey
        var parts = key.encoded.split(separator: ":").map(String.init)
        parts[3] = String(parts[3].reversed())
        let tampered = try RepositoryKey(encoded: parts.joined(separator: ":"))
        await #expect(throws: KopiaError(.wrongPassword, "")) {
            _ = try await KopiaRepository.open(storage: storage, unlock: .key(tampered), logger: Self.logger)
        }
    }

    @Test(arguments: ["", "v1:scrypt-65536-8-1:00", "v2:scrypt-65536-8-1:0011:" + String(repeating: "ab", count: 32),
                      "v1::0011:" + String(repeating: "ab", count: 32), "v1:scrypt-65536-8-1:0011:abcd",
                      "v1:scrypt-65536-8-1:zz:" + String(repeating: "ab", count: 32)])
    func aMalformedKeyIsAClearErrorThatDoesNotEchoIt(_ text: String) {
        do {
            _ = try RepositoryKey(encoded: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(!text.isEmpty ? !error.message.contains(text) : true)
        }
    }

    @Test func theKeyNeverPrintsItself() async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia("fs-identities").path)
        let key = try await KopiaRepository.open(storage: storage, password: Fixtures.password, logger: Self.logger).format.repositoryKey
        let hex = String(key.encoded.split(separator: ":")[3])
        #expect(!"\(key)".contains(hex) && !String(describing: key).contains(hex))
        #expect("\(key)".contains("hidden"))
    }
}
