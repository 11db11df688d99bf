import Foundation

/// The plain-JSON format blob `kopia.repository` (kopia-format.md §2.1; kopia/kopia `repo/format/format_blob.go`).
///
/// | JSON key | Type | Use |
/// |---|---|---|
/// | `uniqueID` | base64 bytes (32) | salt of the password KDF and of the format-key HKDFs |
/// | `keyAlgo` | string | password KDF (§2.2); missing ⇒ `scrypt-65536-8-1` |
/// | `encryption` | string | `AES256_GCM` for the inner config |
/// | `encryptedBlockFormat` | base64 bytes | nonce(12) ‖ ciphertext ‖ tag(16) of the config JSON (§2.3) |
/// | `tool`, `buildVersion`, `buildInfo`, `version` | string | informational, ignored |
public struct FormatBlob: Sendable, Hashable {
    public static let blobID = "kopia.repository"

    public var uniqueID: [UInt8]
    public var keyAlgorithm: String
    public var encryption: String
    public var encryptedBlockFormat: [UInt8]
    public var buildVersion: String

    private struct JSON: Decodable {
        var uniqueID: Data?
        var keyAlgo: String?
        var encryption: String?
        var encryptedBlockFormat: Data?
        var buildVersion: String?
    }

    /// Parses the blob's bytes.
    /// - Throws: `KopiaError(.notARepository)` naming `kopia.repository` when it is not a Kopia format blob.
    public static func decode(_ bytes: [UInt8]) throws(KopiaError) -> FormatBlob {
        let json: JSON
        do {
            json = try JSONDecoder().decode(JSON.self, from: Data(bytes))
        } catch {
            throw KopiaError(.notARepository, "kopia.repository is not a Kopia format blob (it does not parse as JSON)",
                             blobID: blobID, cause: error)
        }
        guard let uniqueID = json.uniqueID, uniqueID.count >= 16 else {
            throw KopiaError(.notARepository, "kopia.repository has no uniqueID of at least 16 bytes", blobID: blobID)
        }
        guard let block = json.encryptedBlockFormat, block.count >= 12 + 16 else {
            throw KopiaError(.notARepository,
                             "kopia.repository has no encrypted repository parameters (unencrypted repositories are not supported)",
                             blobID: blobID)
        }
        let encryption = json.encryption ?? "AES256_GCM"
        guard encryption == "AES256_GCM" else {
            throw KopiaError(.unknownAlgorithm, "kopia.repository uses format encryption \"\(encryption)\", which Ferry does not know",
                             blobID: blobID)
        }
        return FormatBlob(uniqueID: Array(uniqueID), keyAlgorithm: json.keyAlgo ?? "", encryption: encryption,
                          encryptedBlockFormat: Array(block), buildVersion: json.buildVersion ?? "")
    }
}
