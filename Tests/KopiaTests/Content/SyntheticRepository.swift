import Foundation
@testable import Kopia
import KopiaTestSupport

/// Builds small, fully encrypted repositories in memory for cases the fixtures do not cover (format v1 with index
/// v1 and the legacy index manager, compacted epoch sets, deleted entries, watermarks). Everything is written the
/// way Kopia writes it: format blob per §2.3, whole-blob encryption per §4.3, pack contents per §4.2 and §6.
struct SyntheticRepository {
    static let password = "synthetic-password"

    let storage = InMemoryStorage()
    let version: Int
    let hasher: ContentHasher
    let cipher: ContentCipher
    /// The error-correction layer applied after encryption (§4.4), when the repository has one.
    let errorCorrection: ErrorCorrection?

    /// Writes `kopia.repository` for format `version` (1: index v1, legacy manager; 2/3: index v2, epochs).
    /// `eccOverheadPercent` turns on `REED-SOLOMON-CRC32`; `secretLength` 0 writes an empty HMAC secret.
    init(version: Int, hash: String = "BLAKE2B-256-128", extraParameters: String = "", eccOverheadPercent: Int? = nil,
         secretLength: Int = 32) async throws {
        self.version = version
        let uniqueID = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let masterKey = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let secret = (0..<secretLength).map { _ in UInt8.random(in: 0...255) }
        let ecc = eccOverheadPercent.map { #","ecc":"REED-SOLOMON-CRC32","eccOverheadPercent":\#($0)"# } ?? ""
        let epochs = version >= 2
        let config = """
            {"format":{"hash":"\(hash)","encryption":"AES256-GCM-HMAC-SHA256",\
            "secret":"\(Data(secret).base64EncodedString())","masterKey":"\(Data(masterKey).base64EncodedString())",\
            "version":\(version),"maxPackSize":20971520,"indexVersion":\(epochs ? 2 : 1),\
            "epochParameters":{"Enabled":\(epochs)},"enablePasswordChange":\(epochs),"splitter":"FIXED-1M"\(ecc)\(extraParameters)}}
            """
        let keys = try FormatKeys(password: Self.password, uniqueID: uniqueID, keyAlgorithm: "scrypt-65536-8-1")
        let nonce = (0..<12).map { _ in UInt8.random(in: 0...255) }
        let sealed = nonce + (try AESGCM.seal(key: keys.aesKey, nonce: nonce, plaintext: Array(config.utf8), aad: keys.authData))
        let blob = """
            {"tool":"https://github.com/kopia/kopia","buildVersion":"synthetic","uniqueID":"\(Data(uniqueID).base64EncodedString())",\
            "keyAlgo":"scrypt-65536-8-1","encryption":"AES256_GCM","encryptedBlockFormat":"\(Data(sealed).base64EncodedString())"}
            """
        try await storage.write("kopia.repository", Array(blob.utf8))
        hasher = try ContentHasher(algorithm: (try? HashAlgorithm(name: hash)) ?? .blake2b256_128,
                                   secret: secret)
        cipher = try ContentCipher(algorithm: .aes256GCMHMACSHA256, masterKey: masterKey)
        errorCorrection = try eccOverheadPercent.map { try ErrorCorrection(name: ErrorCorrection.reedSolomonCRC32, overheadPercent: $0) }
    }

    /// AEAD, then ECC if the repository has it.
    func seal(_ plaintext: [UInt8], iv: [UInt8]) throws -> [UInt8] {
        let sealed = try cipher.encrypt(plaintext, iv: iv)
        return try errorCorrection?.encode(sealed) ?? sealed
    }

    func contentID(_ data: [UInt8], prefix: UInt8 = 0) -> ContentID {
        ContentID(prefix: prefix, hash: hasher.hash(data))
    }

    /// Writes a pack holding `contents` (32-byte preamble, then the encrypted contents back to back) and returns
    /// index entries for them.
    func writePack(_ name: String, _ contents: [(ContentID, [UInt8])], timestamp: Int64 = 1_800_000_000,
                   deleted: Bool = false, compression: CompressionAlgorithm? = nil) async throws -> [IndexV2Encoder.Entry] {
        var pack = [UInt8](repeating: 0xaa, count: 32)
        var entries: [IndexV2Encoder.Entry] = []
        for (id, data) in contents {
            let stored = try compression.map { try Compression.compress(data, using: $0) } ?? data
            let sealed = try seal(stored, iv: id.iv)
            entries.append(IndexV2Encoder.Entry(
                contentID: id, packBlobID: name, packOffset: UInt32(pack.count), packedLength: UInt32(sealed.count),
                originalLength: UInt32(data.count), timestampSeconds: timestamp, deleted: deleted,
                formatVersion: UInt8(version), compressionHeaderID: compression?.headerID ?? 0))
            pack += sealed
        }
        pack += [UInt8](repeating: 0x55, count: 100)
        try await storage.write(name, pack)
        return entries
    }

    /// Encrypts `plaintext` as a whole blob named `prefix + hex(hash) + suffix` (§4.3) and writes it.
    @discardableResult
    func writeBlob(prefix: String, suffix: String = "", _ plaintext: [UInt8]) async throws -> String {
        let id = prefix + Hex.encode(hasher.hash(plaintext)) + suffix
        try await storage.write(id, try seal(plaintext, iv: try ContentCipher.blobIV(forBlobID: id)))
        return id
    }

    func open() async throws -> (RepositoryFormat, ContentManager) {
        let format = try await RepositoryFormat.open(storage: storage, password: Self.password)
        return (format, try await ContentManager.open(storage: storage, format: format, logger: ContentFixtures.logger))
    }
}

/// A test-side encoder of index v1 (kopia-format.md §7.1), the inverse of `IndexV1.decode`.
enum IndexV1Bytes {
    static func encode(_ entries: [IndexV2Encoder.Entry], keySize: Int = 17) -> [UInt8] {
        let sorted = entries.sorted { $0.contentID < $1.contentID }
        guard !sorted.isEmpty else { return [1, 255, 0, 20, 0, 0, 0, 0] }
        var names: [String: Int] = [:]
        var extra: [UInt8] = []
        let namesStart = 8 + sorted.count * (keySize + 20)
        for e in sorted where names[e.packBlobID] == nil {
            names[e.packBlobID] = namesStart + extra.count
            extra += Array(e.packBlobID.utf8)
        }
        var out: [UInt8] = [1, UInt8(keySize), 0, 20]
        func be(_ v: UInt64, _ width: Int) { for i in (0..<width).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        be(UInt64(sorted.count), 4)
        for e in sorted {
            out += e.contentID.indexKey
            be(UInt64(e.timestampSeconds), 6)
            out.append(e.formatVersion)
            out.append(UInt8(e.packBlobID.utf8.count))
            be(UInt64(names[e.packBlobID] ?? 0), 4)
            be(UInt64(e.packOffset) | (e.deleted ? 0x8000_0000 : 0), 4)
            be(UInt64(e.packedLength), 4)
        }
        return out + extra
    }
}
