internal import COpenSSL

/// One-shot AEAD seal/open over a fetched OpenSSL cipher (AES-256-GCM or ChaCha20-Poly1305): 32-byte key,
/// 12-byte nonce, 16-byte tag. Each call owns a short-lived `EVP_CIPHER_CTX` (the key changes per content, so
/// a context could not be reused across contents anyway); it is freed before the call returns.
enum AEAD {
    static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16

    /// Returns ciphertext ‖ tag.
    static func seal(
        _ cipher: FetchedCipher, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer
    ) throws(KopiaError) -> [UInt8] {
        try check(cipher, key: key, nonce: nonce, dataCount: plaintext.count)
        var failure: KopiaError?
        let result = [UInt8](unsafeUninitializedCapacity: plaintext.count + tagSize) { out, initialized in
            initialized = 0
            do throws(KopiaError) {
                try seal(cipher, key: key, nonce: nonce, plaintext: plaintext, aad: aad,
                         into: UnsafeMutableRawBufferPointer(out))
                initialized = plaintext.count + tagSize
            } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    /// Writes ciphertext ‖ tag into `out` (exactly `plaintext.count + tagSize` bytes), with no allocation of
    /// its own — the content writer seals straight into its output.
    static func seal(
        _ cipher: FetchedCipher, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws(KopiaError) {
        try check(cipher, key: key, nonce: nonce, dataCount: plaintext.count)
        let count = plaintext.count
        guard out.count == count + tagSize else {
            throw KopiaError(.invalidArgument, "\(cipher.name) output is \(out.count) bytes; \(count + tagSize) are required")
        }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_EncryptInit_ex2(ctx, cipher.raw, key.bindMemory(to: UInt8.self).baseAddress,
                                  nonce.bindMemory(to: UInt8.self).baseAddress, nil) == 1 else {
            throw OpenSSL.failure("\(cipher.name) encrypt init")
        }
        var outLength: Int32 = 0
        if aad.count > 0 {
            guard EVP_EncryptUpdate(ctx, nil, &outLength, aad.bindMemory(to: UInt8.self).baseAddress,
                                    Int32(aad.count)) == 1 else { throw OpenSSL.failure("\(cipher.name) AAD") }
        }
        let output = out.bindMemory(to: UInt8.self).baseAddress
        var n: Int32 = 0
        if count > 0 {
            guard EVP_EncryptUpdate(ctx, output, &n, plaintext.bindMemory(to: UInt8.self).baseAddress,
                                    Int32(count)) == 1 else { throw OpenSSL.failure("\(cipher.name) encrypt") }
        }
        var fin: Int32 = 0
        guard EVP_EncryptFinal_ex(ctx, output.map { $0 + Int(n) }, &fin) == 1, Int(n) + Int(fin) == count,
              copenssl_aead_get_tag(ctx, Int32(tagSize), output.map { $0 + count }) == 1 else {
            throw OpenSSL.failure("\(cipher.name) encrypt")
        }
    }

    /// Opens ciphertext ‖ tag. An authentication failure (or input shorter than the tag) throws
    /// `.corruptContent`.
    static func open(
        _ cipher: FetchedCipher, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer
    ) throws(KopiaError) -> [UInt8] {
        guard ciphertextAndTag.count >= tagSize else {
            throw KopiaError(.corruptContent, "encrypted data is \(ciphertextAndTag.count) bytes, shorter than its \(tagSize)-byte tag")
        }
        let count = ciphertextAndTag.count - tagSize
        try check(cipher, key: key, nonce: nonce, dataCount: count)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_DecryptInit_ex2(ctx, cipher.raw, key.bindMemory(to: UInt8.self).baseAddress,
                                  nonce.bindMemory(to: UInt8.self).baseAddress, nil) == 1 else {
            throw OpenSSL.failure("\(cipher.name) decrypt init")
        }
        var outLength: Int32 = 0
        if aad.count > 0 {
            guard EVP_DecryptUpdate(ctx, nil, &outLength, aad.bindMemory(to: UInt8.self).baseAddress,
                                    Int32(aad.count)) == 1 else { throw OpenSSL.failure("\(cipher.name) AAD") }
        }
        var tag = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &tag) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: ciphertextAndTag[count...])) }
        let input = ciphertextAndTag.bindMemory(to: UInt8.self).baseAddress
        var authentic = true
        let result = [UInt8](unsafeUninitializedCapacity: max(count, 1)) { out, initialized in
            initialized = 0
            var n: Int32 = 0
            if count > 0 {
                guard EVP_DecryptUpdate(ctx, out.baseAddress, &n, input, Int32(count)) == 1 else {
                    authentic = false; return
                }
            }
            let tagOK = withUnsafeMutableBytes(of: &tag) { copenssl_aead_set_tag(ctx, Int32(tagSize), $0.baseAddress) == 1 }
            var fin: Int32 = 0
            guard tagOK, EVP_DecryptFinal_ex(ctx, out.baseAddress.map { $0 + Int(n) }, &fin) == 1,
                  Int(n) + Int(fin) == count else {
                authentic = false; return
            }
            initialized = count
        }
        guard authentic else {
            _ = OpenSSL.drainErrors()
            throw KopiaError(.corruptContent, "\(cipher.name) authentication failed: the data is corrupt or the key is wrong")
        }
        return result
    }

    private static func check(
        _ cipher: FetchedCipher, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, dataCount: Int
    ) throws(KopiaError) {
        guard key.count == keySize else {
            throw KopiaError(.invalidArgument, "\(cipher.name) key is \(key.count) bytes; \(keySize) are required")
        }
        guard nonce.count == nonceSize else {
            throw KopiaError(.invalidArgument, "\(cipher.name) nonce is \(nonce.count) bytes; \(nonceSize) are required")
        }
        guard dataCount < Int(Int32.max) - 64 else {
            throw KopiaError(.invalidArgument, "\(cipher.name) input of \(dataCount) bytes is over the 2 GiB limit")
        }
    }
}
