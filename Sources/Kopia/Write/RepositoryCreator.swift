import Foundation

/// Options for a new repository (`ferry repo create`); defaults are Kopia's (kopia/kopia `repo/initialize.go`,
/// `cli/command_repository_create.go`).
public struct RepositoryCreateOptions: Sendable {
    public var hash = "BLAKE2B-256-128"
    public var encryption = "AES256-GCM-HMAC-SHA256"
    public var splitter = "DYNAMIC-4M-BUZHASH"
    public var keyAlgorithm = "scrypt-65536-8-1"
    public var maxPackSize = 20 << 20
    /// Written into the format blob's `buildVersion`/`buildInfo` (informational).
    public var buildVersion = "ferry-0.1.0"

    public init() {}
}

/// Creates Kopia repositories: format version 3, index v2, epoch manager (kopia-format.md §1.2, §2, §8.1).
///
/// Blobs written, in order (so a creation interrupted half-way is never mistaken for a repository):
/// 1. filesystem only: `.shards` = `{"default":[1,3],"maxNonShardedLength":20}` (plus a newline, as Kopia);
/// 2. the default global policy manifest (a `q` pack and an `xn0_` index blob), as `kopia repository create`
///    writes one;
/// 3. `kopia.blobcfg` = AES-256-GCM(`{}`) with the format keys (30 bytes);
/// 4. `kopia.repository` last: pretty-printed JSON holding `uniqueID` (32 random bytes), `keyAlgo`, and the
///    parameters sealed with HKDF(KDF(password, uniqueID)) keys (§2.3).
public enum RepositoryCreator {
    /// The `.shards` file of a new filesystem repository, byte for byte as Kopia writes it.
    public static let shardsFile = Array(#"{"default":[1,3],"maxNonShardedLength":20}"#.utf8) + [0x0a]

    /// Creates a filesystem repository at `path` (created if missing).
    /// - Throws: `.alreadyExists` when `path` already holds `kopia.repository`; `.invalidArgument` for unknown
    ///   algorithms; I/O errors naming the path.
    public static func createFilesystem(at path: String, password: String, options: RepositoryCreateOptions = .init())
        async throws -> RepositoryFormat
    {
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/kopia.repository.f") {
            throw KopiaError(.alreadyExists, "a Kopia repository already exists here; refusing to overwrite it", path: path)
        }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
            if !fm.fileExists(atPath: path + "/.shards") {
                try Data(shardsFile).write(to: URL(fileURLWithPath: path + "/.shards"))
            }
        } catch {
            throw KopiaError(.ioFailure, "cannot create the repository directory", path: path, cause: error)
        }
        let storage = try FilesystemStorage(root: path)
        return try await create(storage: storage, password: password, options: options)
    }

    /// Creates a repository in any blob storage (for a filesystem, prefer ``createFilesystem(at:password:options:)``,
    /// which also writes `.shards`).
    public static func create(storage: any BlobStorage, password: String, options: RepositoryCreateOptions = .init())
        async throws -> RepositoryFormat
    {
        if (try? await storage.metadata(FormatBlob.blobID)) != nil {
            throw KopiaError(.alreadyExists, "a Kopia repository already exists at \(storage.displayName); refusing to overwrite it",
                             blobID: FormatBlob.blobID)
        }
        _ = try HashAlgorithm(name: options.hash)
        _ = try EncryptionAlgorithm(name: options.encryption)
        _ = try SplitterAlgorithm(name: options.splitter)
        guard (10 << 20...120 << 20).contains(options.maxPackSize) else {
            throw KopiaError(.invalidArgument, "max pack size must be 10–120 MiB")
        }
        let uniqueID = randomBytes(32)
        let keyAlgorithm = options.keyAlgorithm
        let keys = try await BlockingIO.run {
            try FormatKeys(password: password, uniqueID: uniqueID, keyAlgorithm: keyAlgorithm)
        }
        let config = parametersJSON(options: options, secret: randomBytes(32), masterKey: randomBytes(32))
        let sealedConfig = try seal(Array(config.utf8), keys: keys)
        let formatBlob = FormatBlob(uniqueID: uniqueID, keyAlgorithm: keyAlgorithm, encryption: "AES256_GCM",
                                    encryptedBlockFormat: sealedConfig, buildVersion: options.buildVersion)
        let parameters = try RepositoryParameters.decode(Array(config.utf8))
        let format = try RepositoryFormat(formatBlob: formatBlob, parameters: parameters, blobConfig: BlobConfig(),
                                          keys: keys)

        let writer = ContentWriter(format: format, storage: storage, existing: nil, epoch: 0)
        try await ManifestWriter(contents: writer).write([
            ManifestWriter.Entry(labels: ["type": "policy", "policyType": "global"], modified: KopiaTimeFormat.now(),
                                 dataJSON: defaultGlobalPolicyJSON)
        ])
        try await writer.flush()
        try await storage.write(BlobConfig.blobID, try seal(Array("{}".utf8), keys: keys))
        try await storage.write(FormatBlob.blobID, Array(formatBlobJSON(formatBlob, options: options).utf8))
        return format
    }

    /// Kopia's default global policy as `kopia repository create` stores it (0.12: fs-default's policy manifest).
    static let defaultGlobalPolicyJSON = #"{"retention":{"keepLatest":10,"keepHourly":48,"keepDaily":7,"keepWeekly":4,"keepMonthly":24,"keepAnnual":3,"ignoreIdenticalSnapshots":false},"files":{"ignoreDotFiles":[".kopiaignore"]},"errorHandling":{"ignoreFileErrors":false,"ignoreDirectoryErrors":false,"ignoreUnknownTypes":true},"scheduling":{},"compression":{"compressorName":"none"},"actions":{},"logging":{"directories":{"snapshotted":5,"ignored":5},"entries":{"snapshotted":0,"ignored":5,"cacheHit":0,"cacheMiss":0}},"upload":{"maxParallelSnapshots":1,"parallelUploadAboveSize":2147483648}}"#

    /// `{"format":{…}}` with Kopia's field order (kopia/kopia `repo/format/content_format.go`).
    static func parametersJSON(options: RepositoryCreateOptions, secret: [UInt8], masterKey: [UInt8]) -> String {
        var w = GoJSON()
        w.beginObject()
        w.key("format")
        w.beginObject()
        w.field("hash", options.hash)
        w.field("encryption", options.encryption)
        w.field("secret", Data(secret).base64EncodedString())
        w.field("masterKey", Data(masterKey).base64EncodedString())
        w.field("version", 3)
        w.field("maxPackSize", options.maxPackSize)
        w.field("indexVersion", 2)
        w.key("epochParameters")
        w.beginObject()
        w.field("Enabled", true)
        w.field("EpochRefreshFrequency", Int64(1_200_000_000_000))
        w.field("FullCheckpointFrequency", 7)
        w.field("CleanupSafetyMargin", Int64(14_400_000_000_000))
        w.field("MinEpochDuration", Int64(86_400_000_000_000))
        w.field("EpochAdvanceOnCountThreshold", 20)
        w.field("EpochAdvanceOnTotalSizeBytesThreshold", 10_485_760)
        w.field("DeleteParallelism", 4)
        w.endObject()
        w.field("enablePasswordChange", true)
        w.field("splitter", options.splitter)
        w.endObject()
        w.endObject()
        return w.text
    }

    /// The plain format blob, pretty-printed with a two-space indent like Kopia's.
    static func formatBlobJSON(_ blob: FormatBlob, options: RepositoryCreateOptions) -> String {
        func q(_ s: String) -> String {
            var out = ""
            GoJSON.appendString(s, to: &out)
            return out
        }
        return """
            {
              "tool": \(q("https://github.com/kopia/kopia")),
              "buildVersion": \(q(options.buildVersion)),
              "buildInfo": \(q("ferry")),
              "uniqueID": \(q(Data(blob.uniqueID).base64EncodedString())),
              "keyAlgo": \(q(blob.keyAlgorithm)),
              "encryption": \(q(blob.encryption)),
              "encryptedBlockFormat": \(q(Data(blob.encryptedBlockFormat).base64EncodedString()))
            }

            """
    }

    /// nonce(12) ‖ AES-256-GCM(aesKey, AAD = authData) — the format-blob sealing of §2.3/§2.6.
    static func seal(_ plaintext: [UInt8], keys: FormatKeys) throws -> [UInt8] {
        let nonce = randomBytes(12)
        return nonce + (try AESGCM.seal(key: keys.aesKey, nonce: nonce, plaintext: plaintext, aad: keys.authData))
    }
}
