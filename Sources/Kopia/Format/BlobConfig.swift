import Foundation

/// `kopia.blobcfg`: blob retention settings (kopia-format.md §2.6; kopia/kopia `repo/format/blobcfg_blob.go`).
///
/// Bytes = nonce(12) ‖ AES-256-GCM ciphertext ‖ tag(16) with the format blob's aesKey/authData (§2.3). The
/// plaintext is `{"retentionMode":"GOVERNANCE"|"COMPLIANCE","retentionPeriod":<ns>}` or `{}`. A missing blob
/// means no retention.
public struct BlobConfig: Sendable, Hashable {
    public static let blobID = "kopia.blobcfg"

    public var retentionMode: String
    public var retentionPeriodNanoseconds: Int64

    public init(retentionMode: String = "", retentionPeriodNanoseconds: Int64 = 0) {
        self.retentionMode = retentionMode
        self.retentionPeriodNanoseconds = retentionPeriodNanoseconds
    }

    private struct JSON: Decodable {
        var retentionMode: String?
        var retentionPeriod: Int64?
    }

    /// Decrypts and parses the blob. - Throws: `.corruptBlob` naming `kopia.blobcfg`.
    static func decode(_ sealed: [UInt8], keys: FormatKeys) throws(KopiaError) -> BlobConfig {
        guard let plaintext = keys.open(sealed) else {
            throw KopiaError(.corruptBlob, "kopia.blobcfg fails authentication; restore it from a backup or delete it",
                             blobID: blobID)
        }
        do {
            let json = try JSONDecoder().decode(JSON.self, from: Data(plaintext))
            return BlobConfig(retentionMode: json.retentionMode ?? "", retentionPeriodNanoseconds: json.retentionPeriod ?? 0)
        } catch {
            throw KopiaError(.corruptBlob, "kopia.blobcfg does not parse", blobID: blobID, cause: error)
        }
    }
}
