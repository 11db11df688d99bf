/// Raw AES-256-GCM (12-byte nonce, 16-byte tag) as used for `kopia.repository`'s `encryptedBlockFormat` and
/// `kopia.blobcfg` (kopia-format.md §2.3, §2.6). Stateless; safe from any task.
public enum AESGCM {
    /// Encrypts `plaintext`; returns ciphertext ‖ tag (the nonce is not included).
    /// - Throws: `KopiaError.invalidArgument` for a key that is not 32 bytes or a nonce that is not 12.
    public static func seal(key: [UInt8], nonce: [UInt8], plaintext: some Collection<UInt8>, aad: [UInt8]) throws -> [UInt8] {
        let cipher = try FetchedCipher.aes256GCM.get()
        return try key.withUnsafeBytes { k in
            try nonce.withUnsafeBytes { iv in
                try aad.withUnsafeBytes { a in
                    try withContiguousBytes(plaintext) { p in try AEAD.seal(cipher, key: k, nonce: iv, plaintext: p, aad: a) }
                }
            }
        }
    }

    /// Decrypts ciphertext ‖ tag.
    /// - Throws: `KopiaError.corruptContent` when authentication fails (wrong key, AAD or damaged bytes);
    ///   `.invalidArgument` for a key that is not 32 bytes or a nonce that is not 12.
    public static func open(key: [UInt8], nonce: [UInt8], ciphertextAndTag: some Collection<UInt8>, aad: [UInt8]) throws -> [UInt8] {
        let cipher = try FetchedCipher.aes256GCM.get()
        return try key.withUnsafeBytes { k in
            try nonce.withUnsafeBytes { iv in
                try aad.withUnsafeBytes { a in
                    try withContiguousBytes(ciphertextAndTag) { c in
                        try AEAD.open(cipher, key: k, nonce: iv, ciphertextAndTag: c, aad: a)
                    }
                }
            }
        }
    }
}
