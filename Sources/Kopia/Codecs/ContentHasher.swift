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
    }

    /// - Parameters:
    ///   - algorithm: the repository's `hash`.
    ///   - secret: the repository's HMAC secret (raw bytes; empty when the repository was created without one).
    /// - Throws: `KopiaError.invalidArgument` when the secret cannot key the algorithm (BLAKE2S needs 1...32
    ///   bytes, BLAKE2B at most 64).
    public init(algorithm: HashAlgorithm, secret: [UInt8]) throws {
        self.algorithm = algorithm
        switch algorithm {
        case .blake2b256_128, .blake2b256:
            guard !secret.isEmpty else {
                throw KopiaError(.unsupportedFormat, "\(algorithm.rawValue) without an HMAC secret is not supported yet")
            }
            guard secret.count <= 64 else {
                throw KopiaError(.invalidArgument, "\(algorithm.rawValue) secret is \(secret.count) bytes; at most 64 are allowed")
            }
            engine = .mac(try MACTemplate(mac: FetchedMAC.blake2b.get(), key: secret, digest: nil, size: 32, outputSize: 32))
        case .blake2s128, .blake2s256:
            guard (1...32).contains(secret.count) else {
                throw KopiaError(.invalidArgument, "\(algorithm.rawValue) needs a secret of 1...32 bytes, not \(secret.count)")
            }
            let size = algorithm.fullLength
            engine = .mac(try MACTemplate(mac: FetchedMAC.blake2s.get(), key: secret, digest: nil, size: size, outputSize: size))
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
            }
            return Array(UnsafeRawBufferPointer(rebasing: full[0..<length]))
        }
    }
}
