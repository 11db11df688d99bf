/// Kopia's compressed payloads (kopia-format.md §5): `[HeaderID u32 BE][stream]`, header 0 = stored raw.
///
/// Stateless and safe from any task. Decoders never trap on malformed input: they throw
/// `.corruptContent` (bad or truncated stream, or output over `maxOutputSize`) or `.unknownAlgorithm`.
public enum Compression {
    /// The default ceiling on one decompressed payload (contents are at most a few MiB; manifests and
    /// directory listings are split into contents). Guards against decompression bombs.
    public static let defaultMaxOutputSize = 1 << 30

    /// Decompresses `[u32 BE header][stream]`, the form of object-level (`Z…`) payloads and of content
    /// plaintexts whose index entry names a compression header.
    /// - Throws: `.unknownAlgorithm` for an unassigned header; `.corruptContent` for a bad stream or fewer
    ///   than 4 bytes.
    public static func decompress(_ data: some Collection<UInt8>, maxOutputSize: Int = defaultMaxOutputSize) throws -> [UInt8] {
        try withContiguousBytes(data) { bytes in
            let header = try readHeader(bytes)
            guard let algorithm = CompressionAlgorithm(headerID: header) else {
                throw KopiaError(.unknownAlgorithm, "unknown compression header 0x\(String(header, radix: 16))")
            }
            return try decompress(stream: UnsafeRawBufferPointer(rebasing: bytes[4...]), algorithm: algorithm, limit: maxOutputSize)
        }
    }

    /// Decompresses `[u32 BE header][stream]` whose header must be `algorithm`'s (the index v2 entry says
    /// which compressor wrote the content; Kopia verifies the header matches).
    /// - Throws: `.corruptContent` when the header differs or the stream is bad.
    public static func decompress(_ data: some Collection<UInt8>, verifying algorithm: CompressionAlgorithm,
                                  maxOutputSize: Int = defaultMaxOutputSize) throws -> [UInt8] {
        try withContiguousBytes(data) { bytes in
            let header = try readHeader(bytes)
            guard header == algorithm.headerID else {
                throw KopiaError(.corruptContent, "compression header 0x\(String(header, radix: 16)) does not match \(algorithm.name) (0x\(String(algorithm.headerID, radix: 16)))")
            }
            return try decompress(stream: UnsafeRawBufferPointer(rebasing: bytes[4...]), algorithm: algorithm, limit: maxOutputSize)
        }
    }

    /// Decompresses a bare stream (**no** 4-byte header) of a known algorithm. `.uncompressed` returns the
    /// bytes unchanged.
    public static func decompress(_ stream: some Collection<UInt8>, algorithm: CompressionAlgorithm,
                                  maxOutputSize: Int = defaultMaxOutputSize) throws -> [UInt8] {
        try withContiguousBytes(stream) { bytes in try decompress(stream: bytes, algorithm: algorithm, limit: maxOutputSize) }
    }

    /// Returns `[u32 BE header] ‖ compressed stream` (for `.uncompressed`: header 0 ‖ data).
    ///
    /// zstd levels follow klauspost's encoder levels (fastest ≈ 1, default ≈ 3, better ≈ 7, best ≈ 11);
    /// gzip/pgzip/deflate use zlib levels 6 (default), 1 (best speed), 9 (best compression); S2 uses
    /// `S2Encoder` (`s2-better` with a bigger match table).
    /// - Throws: `.unsupportedFormat` for `lz4` (Kopia removed that compressor; Ferry only reads it).
    public static func compress(_ data: some Collection<UInt8>, using algorithm: CompressionAlgorithm) throws -> [UInt8] {
        try withContiguousBytes(data) { bytes in
            let id = algorithm.headerID
            let header: [UInt8] = [UInt8(id >> 24), UInt8(truncatingIfNeeded: id >> 16), UInt8(truncatingIfNeeded: id >> 8), UInt8(truncatingIfNeeded: id)]
            let stream: [UInt8]
            switch algorithm {
            case .uncompressed: stream = Array(bytes)
            case .gzip, .pgzip: stream = try ZlibCodec.deflate(bytes, framing: .gzip, level: 6)
            case .gzipBestSpeed, .pgzipBestSpeed: stream = try ZlibCodec.deflate(bytes, framing: .gzip, level: 1)
            case .gzipBestCompression, .pgzipBestCompression: stream = try ZlibCodec.deflate(bytes, framing: .gzip, level: 9)
            case .deflateDefault: stream = try ZlibCodec.deflate(bytes, framing: .raw, level: 6)
            case .deflateBestSpeed: stream = try ZlibCodec.deflate(bytes, framing: .raw, level: 1)
            case .deflateBestCompression: stream = try ZlibCodec.deflate(bytes, framing: .raw, level: 9)
            case .zstdFastest: stream = try ZstdCodec.compress(bytes, level: 1)
            case .zstd: stream = try ZstdCodec.compress(bytes, level: 3)
            case .zstdBetterCompression: stream = try ZstdCodec.compress(bytes, level: 7)
            case .zstdBestCompression: stream = try ZstdCodec.compress(bytes, level: 11)
            case .s2Default, .s2Parallel4, .s2Parallel8: stream = S2Encoder.compress(bytes, level: .fast)
            case .s2Better: stream = S2Encoder.compress(bytes, level: .better)
            case .lz4:
                throw KopiaError(.unsupportedFormat, "lz4 compression was removed from Kopia; Ferry reads it but does not write it")
            }
            return header + stream
        }
    }

    /// Decompresses gzip data, all members in order (manifests are gzip'd JSON, §10).
    public static func gunzip(_ data: some Collection<UInt8>, maxOutputSize: Int = defaultMaxOutputSize) throws -> [UInt8] {
        try withContiguousBytes(data) { bytes in try ZlibCodec.inflate(bytes, framing: .gzip, limit: maxOutputSize) }
    }

    /// gzip at the default level (6), as Go's `gzip.NewWriter` writes.
    public static func gzip(_ data: some Collection<UInt8>) throws -> [UInt8] {
        try withContiguousBytes(data) { bytes in try ZlibCodec.deflate(bytes, framing: .gzip, level: 6) }
    }

    private static func readHeader(_ bytes: UnsafeRawBufferPointer) throws(KopiaError) -> UInt32 {
        guard bytes.count >= 4 else {
            throw KopiaError(.corruptContent, "compressed data is \(bytes.count) bytes, shorter than its 4-byte header")
        }
        return UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }

    static func decompress(stream: UnsafeRawBufferPointer, algorithm: CompressionAlgorithm, limit: Int) throws(KopiaError) -> [UInt8] {
        switch algorithm.family {
        case .none:
            guard stream.count <= limit else { throw KopiaError(.corruptContent, "data exceeds the \(limit)-byte limit") }
            return Array(stream)
        case .gzip: return try ZlibCodec.inflate(stream, framing: .gzip, limit: limit)
        case .deflate: return try ZlibCodec.inflate(stream, framing: .raw, limit: limit)
        case .zstd: return try ZstdCodec.decompress(stream, limit: limit)
        case .s2: return try S2Decoder.decompress(stream, limit: limit)
        case .lz4: return try LZ4Codec.decompress(stream, limit: limit)
        }
    }
}
