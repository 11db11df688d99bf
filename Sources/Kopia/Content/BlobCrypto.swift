/// Whole-blob decryption (kopia-format.md §4.3; kopia/kopia `internal/blobcrypto/blob_crypto.go`): index
/// blobs, legacy compaction logs and other `x…`/`n…`/`m…` blobs.
///
/// IV = the blob ID up to its first `-`, last 32 characters, hex-decoded. The ECC layer (if any) is removed
/// first, then the AEAD is opened with contentKey = HMAC-SHA256(K_enc, IV), AAD = IV.
extension RepositoryFormat {
    /// - Throws: `.corruptBlob` naming `blobID` when the name has no IV, ECC cannot repair it or authentication
    ///   fails.
    public func decryptBlob(_ bytes: [UInt8], blobID: String) throws -> [UInt8] {
        let iv: [UInt8]
        do {
            iv = try ContentCipher.blobIV(forBlobID: blobID)
        } catch {
            throw KopiaError(.corruptBlob, "blob name carries no decryption IV", blobID: blobID, cause: error)
        }
        var sealed = bytes
        if let ecc = errorCorrection {
            do {
                sealed = try ecc.decode(bytes)
            } catch {
                throw KopiaError(.corruptBlob, "blob is damaged beyond what its error correction can repair",
                                 blobID: blobID, cause: error)
            }
        }
        do {
            return try cipher.decrypt(sealed, iv: iv)
        } catch {
            throw KopiaError(.corruptBlob, "blob fails authentication; it is damaged or truncated", blobID: blobID,
                             cause: error)
        }
    }
}
