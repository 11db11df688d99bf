/// The keys derived from the repository password (kopia-format.md §2.2, §2.3, §2.6;
/// kopia/kopia `repo/format/format_blob.go`, `internal/crypto/key_derivation.go`).
///
/// ```
/// formatKey = KDF_keyAlgo(password, uniqueID)                    32 bytes (scrypt 64 MiB or PBKDF2)
/// aesKey    = HKDF-SHA256(IKM=formatKey, salt=uniqueID, info="AES",      L=32)
/// authData  = HKDF-SHA256(IKM=formatKey, salt=uniqueID, info="CHECKSUM", L=32)
/// plaintext = AES-256-GCM-Open(aesKey, nonce=blob[0..<12], blob[12...], AAD=authData)
/// ```
///
/// The same aesKey/authData protect `kopia.repository`'s inner block and `kopia.blobcfg`. Held in memory only.
struct FormatKeys: Sendable {
    let formatKey: [UInt8]
    let aesKey: [UInt8]
    let authData: [UInt8]

    /// Derives the keys. Runs the memory-hard KDF: call off the cooperative pool.
    init(password: String, uniqueID: [UInt8], keyAlgorithm: String) throws {
        let algorithm: PasswordKeyAlgorithm
        do {
            algorithm = try PasswordKeyAlgorithm(name: keyAlgorithm)
        } catch let error as KopiaError {
            throw error.adding(blobID: FormatBlob.blobID)
        }
        formatKey = try algorithm.deriveKey(password: password, salt: uniqueID)
        aesKey = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: Array("AES".utf8), length: 32)
        authData = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: Array("CHECKSUM".utf8), length: 32)
    }

    /// The keys from an already derived format key (``RepositoryKey``): no KDF.
    init(formatKey: [UInt8], uniqueID: [UInt8]) throws {
        self.formatKey = formatKey
        aesKey = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: Array("AES".utf8), length: 32)
        authData = try KeyDerivation.hkdfSHA256(key: formatKey, salt: uniqueID, info: Array("CHECKSUM".utf8), length: 32)
    }

    /// Opens nonce(12) ‖ ciphertext ‖ tag(16). Returns nil when authentication fails.
    func open(_ sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 12 + 16 else { return nil }
        return try? AESGCM.open(key: aesKey, nonce: Array(sealed[0..<12]), ciphertextAndTag: sealed[12...], aad: authData)
    }
}
