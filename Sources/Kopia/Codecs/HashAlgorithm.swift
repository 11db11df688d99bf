/// A content hash algorithm of the repository config's `hash` field (kopia-format.md §3.1).
public enum HashAlgorithm: String, CaseIterable, Sendable {
    case blake2b256_128 = "BLAKE2B-256-128"
    case blake2b256 = "BLAKE2B-256"
    case blake2s128 = "BLAKE2S-128"
    case blake2s256 = "BLAKE2S-256"
    case hmacSHA256 = "HMAC-SHA256"
    case hmacSHA256_128 = "HMAC-SHA256-128"
    case hmacSHA224 = "HMAC-SHA224"
    case hmacSHA3_224 = "HMAC-SHA3-224"
    case hmacSHA3_256 = "HMAC-SHA3-256"
    case blake3_256 = "BLAKE3-256"
    case blake3_256_128 = "BLAKE3-256-128"

    /// Parses a `hash` name exactly as Kopia spells it.
    /// - Throws: `KopiaError.unknownAlgorithm` naming the value.
    public init(name: String) throws {
        guard let algorithm = HashAlgorithm(rawValue: name) else {
            throw KopiaError(.unknownAlgorithm, "unknown hash algorithm \"\(name)\" (known: "
                + HashAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self = algorithm
    }

    /// The number of bytes of a content hash (and of a content ID without its prefix).
    public var outputLength: Int {
        switch self {
        case .blake2b256_128, .blake2s128, .hmacSHA256_128, .blake3_256_128: 16
        case .hmacSHA224, .hmacSHA3_224: 28
        case .blake2b256, .blake2s256, .hmacSHA256, .hmacSHA3_256, .blake3_256: 32
        }
    }

    /// The number of bytes the underlying function produces before Kopia truncates it.
    var fullLength: Int {
        switch self {
        case .blake2b256_128, .hmacSHA256_128, .blake3_256_128: 32
        default: outputLength
        }
    }
}
