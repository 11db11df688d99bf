/// Computes Kopia content hashes (content IDs without prefix) with the repository's HMAC `secret`
/// (kopia-format.md §3.1).
///
/// Immutable and `Sendable`: one hasher serves every task of a repository at once. The keyed state is set up
/// once in `init`; each `hash` call copies it.
public struct ContentHasher: Sendable {
    public let algorithm: HashAlgorithm
    private let engine: Engine

    private enum Engine: Sendable {
        case mac(MACTemplate)
        case blake3(BLAKE3)
        /// Unkeyed BLAKE2b with this digest length (an empty secret; OpenSSL's BLAKE2BMAC needs a key).
        case unkeyedBLAKE2b(Int)
        /// Unkeyed BLAKE2s-256 (an empty secret), OpenSSL's `BLAKE2S-256` digest.
        case digest(FetchedDigest)
    }

    /// - Parameters:
    ///   - algorithm: the repository's `hash`.
    ///   - secret: the repository's HMAC secret (raw bytes; empty when the repository was created without one).
    /// An empty secret means the unkeyed function, as in Kopia (Go's `blake2b.New256(nil)`,
    /// `blake2s.New256(nil)`), except for BLAKE2S-128, which Kopia refuses without a key too.
    /// - Throws: `KopiaError.invalidArgument` when the secret cannot key the algorithm (BLAKE2S-128 needs
    ///   1...32 bytes, BLAKE2S-256 at most 32, BLAKE2B at most 64).
    public init(algorithm: HashAlgorithm, secret: [UInt8]) throws {
        self.algorithm = algorithm
        switch algorithm {
        case .blake2b256_128, .blake2b256:
            guard secret.count <= 64 else {
                throw KopiaError(.invalidArgument, "\(algorithm.rawValue) secret is \(secret.count) bytes; at most 64 are allowed")
            }
            // kopia/kopia repo/hashing/blake_hashes.go: blake2b.New256(secret); an empty secret is unkeyed.
            engine = secret.isEmpty
                ? .unkeyedBLAKE2b(32)
                : .mac(try MACTemplate(mac: FetchedMAC.blake2b.get(), key: secret, digest: nil, size: 32, outputSize: 32))
        case .blake2s128, .blake2s256:
            guard secret.count <= 32 else {
                throw KopiaError(.invalidArgument, "\(algorithm.rawValue) needs a secret of at most 32 bytes, not \(secret.count)")
            }
            if secret.isEmpty {
                // Go's blake2s.New128 refuses an empty key ("a key is required for a 128-bit hash"), so Kopia
                // cannot hash with BLAKE2S-128 without a secret; New256(nil) is plain BLAKE2s-256.
                guard algorithm == .blake2s256 else {
                    throw KopiaError(.invalidArgument,
                                     "BLAKE2S-128 requires a non-empty HMAC secret (Kopia refuses it without one too); the repository has none")
                }
                engine = .digest(try FetchedDigest.blake2s256.get())
            } else {
                let size = algorithm.fullLength
                engine = .mac(try MACTemplate(mac: FetchedMAC.blake2s.get(), key: secret, digest: nil, size: size, outputSize: size))
            }
        case .hmacSHA256, .hmacSHA256_128:
            engine = .mac(try MACTemplate(mac: FetchedMAC.hmac.get(), key: secret, digest: "SHA256", size: nil, outputSize: 32))
        case .hmacSHA224:
            engine = .mac(try MACTemplate(mac: FetchedMAC.hmac.get(), key: secret, digest: "SHA224", size: nil, outputSize: 28))
        case .hmacSHA3_224:
            engine = .mac(try MACTemplate(mac: FetchedMAC.hmac.get(), key: secret, digest: "SHA3-224", size: nil, outputSize: 28))
        case .hmacSHA3_256:
            engine = .mac(try MACTemplate(mac: FetchedMAC.hmac.get(), key: secret, digest: "SHA3-256", size: nil, outputSize: 32))
        case .blake3_256, .blake3_256_128:
            // kopia/kopia repo/hashing/blake3_hashes.go: secrets shorter than 32 bytes (even empty) are
            // stretched with derive_key; longer ones are cut to 32.
            let key = secret.count < 32
                ? BLAKE3.deriveKey(context: "kopia blake3 derived key v1", material: secret)
                : Array(secret.prefix(32))
            engine = .blake3(BLAKE3(key: key))
        }
    }

    /// The hash of `data`: `algorithm.outputLength` bytes (truncated variants keep the first bytes).
    /// Contiguous inputs (`[UInt8]`, `ArraySlice`, `UnsafeRawBufferPointer`) are hashed without copying.
    public func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        withContiguousBytes(data) { hash(bytes: $0) }
    }

    /// The hash of raw bytes.
    public func hash(bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let length = algorithm.outputLength
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { full in
            switch engine {
            case .mac(let template): template.mac(bytes, into: full)
            case .blake3(let b3): b3.hash(bytes, into: full)
            case .unkeyedBLAKE2b(let size):
                BLAKE2b.hash(bytes, digestLength: size).withUnsafeBytes { full.copyMemory(from: $0) }
            case .digest(let md): md.digest(bytes, into: full)
            }
            return Array(UnsafeRawBufferPointer(rebasing: full[0..<length]))
        }
    }
}
