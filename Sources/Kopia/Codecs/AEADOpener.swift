internal import COpenSSL

/// An AEAD open spread over many calls: ciphertext goes in piece by piece (decrypted in place) and the tag is
/// checked once at the end — for a whole blob too large to hold twice (the index of a million contents;
/// kopia-format.md §4.3, issue 16).
///
/// The plaintext handed out by `update` is NOT authenticated until `finish` returns: a caller must treat
/// everything it built from it as provisional and discard it when `finish` throws. Single-task; the OpenSSL
/// context (holding the key schedule) is freed on deinit.
final class AEADOpener {
    private let ctx: OpaquePointer
    private let name: String
    private var finished = false

    /// - Throws: `.invalidArgument` for a key or nonce of the wrong size; OpenSSL failures.
    init(_ cipher: FetchedCipher, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
         aad: UnsafeRawBufferPointer) throws(KopiaError) {
        guard key.count == AEAD.keySize else {
            throw KopiaError(.invalidArgument, "\(cipher.name) key is \(key.count) bytes; \(AEAD.keySize) are required")
        }
        guard nonce.count == AEAD.nonceSize else {
            throw KopiaError(.invalidArgument, "\(cipher.name) nonce is \(nonce.count) bytes; \(AEAD.nonceSize) are required")
        }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.failure("EVP_CIPHER_CTX_new") }
        self.ctx = ctx
        self.name = cipher.name
        guard EVP_DecryptInit_ex2(ctx, cipher.raw, key.bindMemory(to: UInt8.self).baseAddress,
                                  nonce.bindMemory(to: UInt8.self).baseAddress, nil) == 1 else {
            throw OpenSSL.failure("\(cipher.name) decrypt init")
        }
        if aad.count > 0 {
            var outLength: Int32 = 0
            guard EVP_DecryptUpdate(ctx, nil, &outLength, aad.bindMemory(to: UInt8.self).baseAddress,
                                    Int32(aad.count)) == 1 else { throw OpenSSL.failure("\(cipher.name) AAD") }
        }
    }

    deinit { EVP_CIPHER_CTX_free(ctx) }

    /// Decrypts `bytes` in place (GCM and ChaCha20-Poly1305 are stream modes: output length = input length).
    /// - Throws: `.invalidArgument` after `finish` or for a piece of 2 GiB or more; OpenSSL failures.
    func update(_ bytes: UnsafeMutableRawBufferPointer) throws(KopiaError) {
        guard !finished else { throw KopiaError(.invalidArgument, "\(name) decryption is already finished") }
        guard bytes.count < Int(Int32.max) - 64 else {
            throw KopiaError(.invalidArgument, "\(name) piece of \(bytes.count) bytes is over the 2 GiB limit")
        }
        guard let base = bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count > 0 else { return }
        var n: Int32 = 0
        guard EVP_DecryptUpdate(ctx, base, &n, base, Int32(bytes.count)) == 1, Int(n) == bytes.count else {
            throw OpenSSL.failure("\(name) decrypt")
        }
    }

    /// Checks the 16-byte tag over everything passed to `update`.
    /// - Throws: `.corruptContent` when authentication fails (or the tag has the wrong size).
    func finish(tag: [UInt8]) throws(KopiaError) {
        guard !finished else { throw KopiaError(.invalidArgument, "\(name) decryption is already finished") }
        finished = true
        var tag = tag
        var fin: Int32 = 0
        var spare = (UInt64(0), UInt64(0))  // GCM/ChaCha write nothing here; sized for safety
        let ok = tag.count == AEAD.tagSize
            && tag.withUnsafeMutableBytes { copenssl_aead_set_tag(ctx, Int32(AEAD.tagSize), $0.baseAddress) == 1 }
            && withUnsafeMutableBytes(of: &spare) {
                EVP_DecryptFinal_ex(ctx, $0.bindMemory(to: UInt8.self).baseAddress, &fin) == 1
            }
            && fin == 0
        guard ok else {
            _ = OpenSSL.drainErrors()
            throw KopiaError(.corruptContent, "\(name) authentication failed: the data is corrupt or the key is wrong")
        }
    }
}

extension ContentCipher {
    /// A streaming opener for a blob or content whose IV is `iv` and whose stored bytes start with `nonce`
    /// (the 12 bytes before the ciphertext).
    func opener(iv: [UInt8], nonce: [UInt8]) throws -> AEADOpener {
        let cipher = self.cipher
        return try nonce.withUnsafeBytes { n in
            try withKey(iv: iv) { (key, aad) throws(KopiaError) in try AEADOpener(cipher, key: key, nonce: n, aad: aad) }
        }
    }
}
