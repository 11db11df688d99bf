internal import COpenSSL

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`) through OpenSSL, for service-account assertions (kopia-format.md
/// §18.5). Deterministic: the same key and message always give the same signature, so it can be compared byte for
/// byte with another signer.
///
/// Owns the `EVP_PKEY`; `@unchecked Sendable` because the key is immutable after init and every `sign` uses its own
/// `EVP_MD_CTX` (OpenSSL 3 allows concurrent use of a key that way).
final class RSASHA256Signer: @unchecked Sendable {
    private let key: OpaquePointer

    /// Loads a PEM private key (PKCS#8 or PKCS#1). `source` names it in errors; key bytes never appear.
    /// - Throws: `KopiaError.invalidArgument` when the PEM does not parse or is not an RSA key.
    init(pem: String, source: String) throws(KopiaError) {
        let bytes = Array(pem.utf8)
        let loaded: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let loaded else {
            _ = OpenSSL.drainErrors()
            throw KopiaError(.invalidArgument, "the private key in \(source) is not a PEM private key OpenSSL can read")
        }
        guard EVP_PKEY_is_a(loaded, "RSA") == 1 else {
            EVP_PKEY_free(loaded)
            throw KopiaError(.invalidArgument, "the private key in \(source) is not an RSA key (RS256 needs RSA)")
        }
        self.key = loaded
    }

    deinit { EVP_PKEY_free(key) }

    /// The signature of `message`.
    /// - Throws: `KopiaError.invalidArgument` if OpenSSL fails (it does not for a loaded RSA key).
    func sign(_ message: [UInt8]) throws(KopiaError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSL.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else {
            throw OpenSSL.failure("EVP_DigestSignInit(RS256)")
        }
        var length = 0
        let sized = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, nil, &length, m.baseAddress, m.count) }
        guard sized == 1, length > 0 else { throw OpenSSL.failure("EVP_DigestSign(size)") }
        var signature = [UInt8](repeating: 0, count: length)
        let ok = signature.withUnsafeMutableBufferPointer { s in
            message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, s.baseAddress, &length, m.baseAddress, m.count) }
        }
        guard ok == 1 else { throw OpenSSL.failure("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }
}
