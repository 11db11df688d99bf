import Foundation

/// The decrypted repository parameters: `{"format":{…}}` (kopia-format.md §2.4, §2.5;
/// kopia/kopia `repo/format/repository_config.go`, `content_format.go`, `object_format.go`).
///
/// | JSON key | Meaning | Default |
/// |---|---|---|
/// | `hash` | content hash (§3.1) | `BLAKE2B-256-128` |
/// | `encryption` | content encryption (§4) | `AES256-GCM-HMAC-SHA256` |
/// | `ecc`, `eccOverheadPercent` | optional error correction (§4.4) | off |
/// | `secret` | base64 HMAC secret (key of the content hash) | empty |
/// | `masterKey` | base64 32-byte master key | — (required) |
/// | `version` | format version 1–3 | 1 |
/// | `maxPackSize` | target pack size | 0 ⇒ 20 MiB |
/// | `indexVersion` | 1 or 2 | 0 ⇒ 1 |
/// | `epochParameters` | PascalCase keys, durations in ns (§8.1) | disabled |
/// | `enablePasswordChange` | DeriveKey from masterKey (true) or formatKey | false |
/// | `splitter` | object splitter | `""` ⇒ `FIXED` |
/// | `requiredFeatures` | `[{"feature","ifNotUnderstood":{"warn",…}}]` | none |
/// | `upgradeLock` | present only while an upgrade runs | none |
///
/// Unknown keys are ignored (pitfall j). Secrets are kept in memory only; `description` omits them.
public struct RepositoryParameters: Sendable, CustomStringConvertible {
    public var hash: String
    public var encryption: String
    public var ecc: String
    public var eccOverheadPercent: Int
    public var secret: [UInt8]
    public var masterKey: [UInt8]
    public var version: Int
    public var maxPackSize: Int
    public var indexVersion: Int
    public var epochParameters: EpochParameters
    public var enablePasswordChange: Bool
    public var splitter: String
    public var requiredFeatures: [RequiredFeature]
    public var upgradeLock: UpgradeLock?

    public var description: String {
        "format v\(version), index v\(indexVersion), hash \(hash), encryption \(encryption)"
            + (ecc.isEmpty ? "" : ", ecc \(ecc) \(eccOverheadPercent)%")
            + ", epochs \(epochParameters.enabled ? "on" : "off"), splitter \(splitter)"
    }

    struct JSON: Decodable {
        struct Format: Decodable {
            var hash: String?
            var encryption: String?
            var ecc: String?
            var eccOverheadPercent: Int?
            var secret: Data?
            var masterKey: Data?
            var version: Int?
            var maxPackSize: Int?
            var indexVersion: Int?
            var epochParameters: EpochParameters?
            var enablePasswordChange: Bool?
            var splitter: String?
            var requiredFeatures: [RequiredFeature]?
            var upgradeLock: UpgradeLock?
        }
        var format: Format
    }

    /// Parses and validates the decrypted JSON.
    /// - Throws: `.corruptBlob` (does not parse, no master key), `.unsupportedFormat` (version outside 1–3,
    ///   index version outside 1–2, an unknown required feature, an upgrade in progress) — all naming
    ///   `kopia.repository`.
    public static func decode(_ plaintext: [UInt8]) throws(KopiaError) -> RepositoryParameters {
        let blob = FormatBlob.blobID
        let f: JSON.Format
        do {
            f = try JSONDecoder().decode(JSON.self, from: Data(plaintext)).format
        } catch {
            throw KopiaError(.corruptBlob, "the repository parameters in kopia.repository do not parse", blobID: blob,
                             cause: error)
        }
        guard let masterKey = f.masterKey, masterKey.count >= 16 else {
            throw KopiaError(.corruptBlob, "kopia.repository holds no master key", blobID: blob)
        }
        let version = f.version ?? 1
        guard (1...3).contains(version) else {
            throw KopiaError(.unsupportedFormat,
                             "repository format version \(version) is not supported (Ferry reads versions 1 to 3); upgrade Ferry",
                             blobID: blob)
        }
        let indexVersion = (f.indexVersion ?? 0) == 0 ? 1 : (f.indexVersion ?? 1)
        guard (1...2).contains(indexVersion) else {
            throw KopiaError(.unsupportedFormat, "index version \(indexVersion) is not supported (Ferry reads 1 and 2)",
                             blobID: blob)
        }
        let features = f.requiredFeatures ?? []
        for feature in features where !RequiredFeature.understood.contains(feature.feature) && !feature.warnOnly {
            throw KopiaError(.unsupportedFormat,
                             "the repository requires feature \"\(feature.feature)\", which Ferry does not understand"
                                + (feature.message.isEmpty ? "" : ": \(feature.message)"),
                             blobID: blob)
        }
        if let lock = f.upgradeLock {
            throw KopiaError(.unsupportedFormat,
                             "the repository is being upgraded (lock held by \(lock.ownerID.isEmpty ? "an unknown owner" : lock.ownerID)); retry once the upgrade finishes",
                             retry: .transient, blobID: blob)
        }
        let maxPack = f.maxPackSize ?? 0
        return RepositoryParameters(
            hash: f.hash ?? "BLAKE2B-256-128",
            encryption: f.encryption ?? "AES256-GCM-HMAC-SHA256",
            ecc: f.ecc ?? "",
            eccOverheadPercent: f.eccOverheadPercent ?? 0,
            secret: Array(f.secret ?? Data()),
            masterKey: Array(masterKey),
            version: version,
            maxPackSize: maxPack == 0 ? 20 << 20 : maxPack,
            indexVersion: indexVersion,
            epochParameters: f.epochParameters ?? EpochParameters(),
            enablePasswordChange: f.enablePasswordChange ?? false,
            splitter: (f.splitter ?? "").isEmpty ? "FIXED" : (f.splitter ?? "FIXED"),
            requiredFeatures: features,
            upgradeLock: f.upgradeLock)
    }
}

/// `requiredFeatures` entries (kopia/kopia `repo/format/format_manager.go`, `internal/feature`).
public struct RequiredFeature: Sendable, Hashable, Decodable {
    /// The features Kopia itself understands.
    public static let understood: Set<String> = ["index-v1", "index-v2"]

    public var feature: String
    public var warnOnly: Bool
    public var message: String

    enum CodingKeys: String, CodingKey { case feature, ifNotUnderstood }
    struct Behaviour: Decodable {
        var warn: Bool?
        var message: String?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        feature = try c.decodeIfPresent(String.self, forKey: .feature) ?? ""
        let b = try c.decodeIfPresent(Behaviour.self, forKey: .ifNotUnderstood)
        warnOnly = b?.warn ?? false
        message = b?.message ?? ""
    }
}

/// The `upgradeLock` object, present only while `kopia repository upgrade` runs (kopia/kopia
/// `repo/format/upgrade_lock.go`). Only the owner is kept, for messages.
public struct UpgradeLock: Sendable, Hashable, Decodable {
    public var ownerID: String

    enum CodingKeys: String, CodingKey { case ownerID }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ownerID = try c.decodeIfPresent(String.self, forKey: .ownerID) ?? ""
    }
}
