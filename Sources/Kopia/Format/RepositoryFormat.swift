/// An opened repository format: the parameters decrypted from `kopia.repository` with the password, and the
/// codecs built from them (kopia-format.md §2, §17 steps 1–3).
///
/// Immutable and `Sendable`. Keys live in memory only; nothing derived from the password is written anywhere.
public struct RepositoryFormat: Sendable {
    /// The parsed `kopia.repository` blob (public parts: salt, KDF name, encrypted block).
    public let formatBlob: FormatBlob
    public let parameters: RepositoryParameters
    public let blobConfig: BlobConfig
    /// The content hash keyed with the HMAC secret (§3.1).
    public let hasher: ContentHasher
    /// Content and whole-blob encryption keyed from the master key (§4.1).
    public let cipher: ContentCipher
    /// The error-correction layer around every encrypted unit (§4.4); nil when `ecc` is empty or
    /// `eccOverheadPercent` is 0 (Kopia's rule in `repo/format/format_provider.go`).
    public let errorCorrection: ErrorCorrection?

    /// The key the password derived for this repository: opens it again without the KDF (``RepositoryKey``).
    public let repositoryKey: RepositoryKey

    /// IKM for DeriveKey: masterKey when password change is enabled (v2/v3), else the formatKey (v1) — §2.8.
    private let derivationKey: [UInt8]

    public var uniqueID: [UInt8] { formatBlob.uniqueID }
    public var version: Int { parameters.version }
    /// Length in bytes of content hashes, and so of index keys minus one.
    public var hashLength: Int { hasher.algorithm.outputLength }

    /// Reads `kopia.repository` (and `kopia.blobcfg` if present) from `storage` and decrypts the parameters.
    ///
    /// Runs the password KDF (scrypt: 64 MiB, a fraction of a second) off the cooperative pool.
    /// - Throws: `KopiaError` — `.notARepository` (no or foreign `kopia.repository`), `.wrongPassword`
    ///   ("wrong password, or not a Kopia repository"), `.unknownAlgorithm` (named), `.unsupportedFormat`,
    ///   `.corruptBlob`; storage errors pass through. Every error names the blob.
    public static func open(storage: any BlobStorage, password: String) async throws -> RepositoryFormat {
        try await open(storage: storage, unlock: .password(password))
    }

    /// How a repository is unlocked: with its password (the KDF runs), or with the key the password derives for
    /// it (``RepositoryKey``; no KDF).
    public enum Unlock: Sendable {
        case password(String)
        case key(RepositoryKey)
    }

    /// `open(storage:password:)`, unlocked either way. A key made for another repository (another `uniqueID` or
    /// key algorithm) is refused as `.wrongPassword` naming that.
    public static func open(storage: any BlobStorage, unlock: Unlock) async throws -> RepositoryFormat {
        let raw: [UInt8]
        do {
            raw = try await storage.read(FormatBlob.blobID)
        } catch let error as KopiaError where error.code == .blobNotFound {
            throw KopiaError(.notARepository,
                             "no Kopia repository at \(storage.displayName) (kopia.repository is missing); check the repository location",
                             blobID: FormatBlob.blobID)
        }
        let blob = try FormatBlob.decode(raw)
        let keys: FormatKeys
        switch unlock {
        case .password(let password):
            keys = try await BlockingIO.run {
                try FormatKeys(password: password, uniqueID: blob.uniqueID, keyAlgorithm: blob.keyAlgorithm)
            }
        case .key(let key):
            guard key.uniqueID == blob.uniqueID, key.keyAlgorithm == blob.keyAlgorithm else {
                throw KopiaError(.wrongPassword,
                                 "the repository key was derived for another repository (or before its password changed): it names uniqueID \(Hex.encode(key.uniqueID.prefix(8)))… and \(key.keyAlgorithm), this repository has \(Hex.encode(blob.uniqueID.prefix(8)))… and \(blob.keyAlgorithm)",
                                 blobID: FormatBlob.blobID)
            }
            keys = try FormatKeys(formatKey: key.bytes, uniqueID: blob.uniqueID)
        }
        guard let plaintext = keys.open(blob.encryptedBlockFormat) else {
            throw KopiaError(.wrongPassword, "wrong password, or not a Kopia repository", blobID: FormatBlob.blobID)
        }
        let parameters = try RepositoryParameters.decode(plaintext)

        var blobConfig = BlobConfig()
        do {
            blobConfig = try BlobConfig.decode(try await storage.read(BlobConfig.blobID), keys: keys)
        } catch let error as KopiaError where error.code == .blobNotFound {
            // No kopia.blobcfg: no retention.
        }
        return try RepositoryFormat(formatBlob: blob, parameters: parameters, blobConfig: blobConfig, keys: keys)
    }

    init(formatBlob: FormatBlob, parameters: RepositoryParameters, blobConfig: BlobConfig, keys: FormatKeys) throws {
        self.formatBlob = formatBlob
        self.parameters = parameters
        self.blobConfig = blobConfig
        let blob = FormatBlob.blobID
        do {
            hasher = try ContentHasher(algorithm: try HashAlgorithm(name: parameters.hash), secret: parameters.secret)
            cipher = try ContentCipher(algorithm: try EncryptionAlgorithm(name: parameters.encryption),
                                       masterKey: parameters.masterKey)
            errorCorrection = !parameters.ecc.isEmpty && parameters.eccOverheadPercent > 0
                ? try ErrorCorrection(name: parameters.ecc, overheadPercent: parameters.eccOverheadPercent)
                : nil
        } catch let error as KopiaError {
            throw error.adding(blobID: blob)
        }
        derivationKey = parameters.enablePasswordChange ? parameters.masterKey : keys.formatKey
        repositoryKey = RepositoryKey(keyAlgorithm: formatBlob.keyAlgorithm, uniqueID: formatBlob.uniqueID, bytes: keys.formatKey)
    }

    /// Seals one unit the way Kopia's format encryptor does (§4.2–§4.4): AEAD with contentKey = HMAC(K_enc, iv),
    /// AAD = iv, then the error-correction layer if the repository has one. Readers undo it in
    /// `decryptBlob(_:blobID:)` and `ContentManager.decode(_:packed:)`.
    /// - Throws: `KopiaError` from the cipher or the ECC encoder (inputs of 4 GiB or more).
    public func seal(_ plaintext: some Collection<UInt8>, iv: [UInt8]) throws -> [UInt8] {
        let sealed = try cipher.encrypt(plaintext, iv: iv)
        return try errorCorrection?.encode(sealed) ?? sealed
    }

    /// DeriveKey (§2.8): HKDF-SHA256(IKM = masterKey (v2/v3) or formatKey (v1), salt = uniqueID, info = purpose).
    public func deriveKey(purpose: String, length: Int) throws -> [UInt8] {
        try KeyDerivation.hkdfSHA256(key: derivationKey, salt: uniqueID, info: Array(purpose.utf8), length: length)
    }
}
