internal import COpenSSL

/// Encrypts and decrypts contents and whole blobs (kopia-format.md §4.1–§4.3).
///
/// ```
/// K_enc      = HKDF-SHA256(IKM = masterKey, salt = "encryption", info = "", L = 32)   (once, in init)
/// contentKey = HMAC-SHA256(K_enc, iv)                                               (per content)
/// blob       = nonce(12) ‖ AEAD(contentKey, nonce, plaintext, AAD = iv) ‖ tag(16)
/// ```
/// Source: kopia/kopia `repo/encryption/aes256_gcm_hmac_sha256_encryptor.go`, `aead_helpers.go`.
/// Immutable and `Sendable`; one cipher serves every task of a repository at once.
public struct ContentCipher: Sendable {
    /// nonce (12) + tag (16).
    public static let overhead = 28

    public let algorithm: EncryptionAlgorithm
    let cipher: FetchedCipher
    private let keyMAC: MACTemplate

    /// - Throws: `KopiaError.invalidArgument` when `masterKey` is empty.
    public init(algorithm: EncryptionAlgorithm, masterKey: [UInt8]) throws {
        guard !masterKey.isEmpty else { throw KopiaError(.invalidArgument, "the master key is empty") }
        self.algorithm = algorithm
        self.cipher = try algorithm.fetchedCipher()
        let kEnc = try KeyDerivation.hkdfSHA256(key: masterKey, salt: Array("encryption".utf8), info: [], length: 32)
        self.keyMAC = try MACTemplate(mac: FetchedMAC.hmac.get(), key: kEnc, digest: "SHA256", size: nil, outputSize: 32)
    }

    /// The per-content key HMAC-SHA256(K_enc, iv) (exposed for tests and diagnostics).
    public func contentKey(iv: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, n in
            iv.withUnsafeBytes { keyMAC.mac($0, into: UnsafeMutableRawBufferPointer(out)) }
            n = 32
        }
    }

    /// Decrypts `blob` = nonce(12) ‖ ciphertext ‖ tag(16) of the content or blob whose IV is `iv`.
    /// - Throws: `KopiaError.corruptContent` when the blob is shorter than 28 bytes or fails authentication.
    public func decrypt(_ blob: some Collection<UInt8>, iv: [UInt8]) throws -> [UInt8] {
        try withContiguousBytes(blob) { bytes in try decrypt(bytes: bytes, iv: iv) }
    }

    /// `decrypt` over raw bytes (no copy of the input).
    public func decrypt(bytes: UnsafeRawBufferPointer, iv: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= Self.overhead else {
            throw KopiaError(.corruptContent, "encrypted data is \(bytes.count) bytes, shorter than the \(Self.overhead)-byte nonce and tag")
        }
        let cipher = self.cipher
        return try withKey(iv: iv) { (key, aad) throws(KopiaError) in
            try AEAD.open(cipher, key: key, nonce: UnsafeRawBufferPointer(rebasing: bytes[0..<AEAD.nonceSize]),
                          ciphertextAndTag: UnsafeRawBufferPointer(rebasing: bytes[AEAD.nonceSize...]), aad: aad)
        }
    }

    /// Encrypts with a fresh random nonce; returns nonce ‖ ciphertext ‖ tag.
    public func encrypt(_ plaintext: some Collection<UInt8>, iv: [UInt8]) throws -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: AEAD.nonceSize)
        guard RAND_bytes(&nonce, Int32(nonce.count)) == 1 else { throw OpenSSL.failure("RAND_bytes") }
        return try encrypt(plaintext, iv: iv, nonce: nonce)
    }

    /// Encrypts with the given 12-byte nonce (deterministic; for test vectors). Never reuse a nonce with
    /// the same IV in a repository.
    public func encrypt(_ plaintext: some Collection<UInt8>, iv: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
        guard nonce.count == AEAD.nonceSize else {
            throw KopiaError(.invalidArgument, "nonce is \(nonce.count) bytes; \(AEAD.nonceSize) are required")
        }
        let cipher = self.cipher
        // One allocation, nonce ‖ ciphertext ‖ tag: no second copy of a multi-megabyte chunk.
        return try withContiguousBytes(plaintext) { p in
            let total = AEAD.nonceSize + p.count + AEAD.tagSize
            var failure: (any Error)?
            let sealed = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
                initialized = 0
                do {
                    let raw = UnsafeMutableRawBufferPointer(out)
                    nonce.withUnsafeBytes { raw.copyMemory(from: $0) }
                    try nonce.withUnsafeBytes { n in
                        try withKey(iv: iv) { (key, aad) throws(KopiaError) in
                            try AEAD.seal(cipher, key: key, nonce: n, plaintext: p, aad: aad,
                                          into: UnsafeMutableRawBufferPointer(rebasing: raw[AEAD.nonceSize...]))
                        }
                    }
                    initialized = total
                } catch { failure = error }
            }
            if let failure { throw failure }
            return sealed
        }
    }

    func withKey<R>(
        iv: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(KopiaError) -> R
    ) throws -> R {
        try withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { key in
            try iv.withUnsafeBytes { aad in
                keyMAC.mac(aad, into: key)
                defer { key.initializeMemory(as: UInt8.self, repeating: 0) }
                return try body(UnsafeRawBufferPointer(key), aad)
            }
        }
    }

    /// The IV of a whole blob (§4.3): the blob ID before its first `-`, its last 32 characters, hex-decoded.
    /// Example: `xn0_9272d5d82e8410d13dbede7d823494cb-sbe3…-c1` → `9272d5d8…94cb`.
    /// - Throws: `KopiaError.corruptBlob` (naming the blob) when that part is shorter than 32 characters or
    ///   not hex.
    public static func blobIV(forBlobID id: String) throws -> [UInt8] {
        let base = id.utf8.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        guard base.count >= 32, let iv = Hex.decode(String(decoding: base.suffix(32), as: UTF8.self)) else {
            throw KopiaError(.corruptBlob, "blob ID does not end in a 32-character hex hash", blobID: id)
        }
        return iv
    }
}
