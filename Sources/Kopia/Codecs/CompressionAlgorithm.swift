/// A Kopia compressor: its name (policies, `kopia.repository` has none) and its on-disk header ID
/// (kopia-format.md §5; kopia/kopia `repo/compression/compression_ids.go`).
///
/// `.uncompressed` is header 0 / name `"none"`: the payload is stored raw.
public enum CompressionAlgorithm: Sendable, Hashable, CaseIterable {
    case uncompressed
    case gzip, gzipBestSpeed, gzipBestCompression
    case zstd, zstdFastest, zstdBetterCompression, zstdBestCompression
    case s2Default, s2Better, s2Parallel4, s2Parallel8
    case pgzip, pgzipBestSpeed, pgzipBestCompression
    case lz4
    case deflateDefault, deflateBestSpeed, deflateBestCompression

    /// The algorithm with this header ID, or nil for an ID Kopia never assigned. Header 0 is `.uncompressed`.
    public init?(headerID: UInt32) {
        guard let match = Self.allCases.first(where: { $0.headerID == headerID }) else { return nil }
        self = match
    }

    /// Parses a compressor name as Kopia spells it (`"zstd-fastest"`, `"s2-default"`, `"none"`).
    /// - Throws: `KopiaError.unknownAlgorithm` naming the value.
    public init(name: String) throws {
        guard let match = Self.allCases.first(where: { $0.name == name }) else {
            throw KopiaError(.unknownAlgorithm, "unknown compression algorithm \"\(name)\" (known: "
                + Self.allCases.map(\.name).joined(separator: ", ") + ")")
        }
        self = match
    }

    public var name: String {
        switch self {
        case .uncompressed: "none"
        case .gzip: "gzip"
        case .gzipBestSpeed: "gzip-best-speed"
        case .gzipBestCompression: "gzip-best-compression"
        case .zstd: "zstd"
        case .zstdFastest: "zstd-fastest"
        case .zstdBetterCompression: "zstd-better-compression"
        case .zstdBestCompression: "zstd-best-compression"
        case .s2Default: "s2-default"
        case .s2Better: "s2-better"
        case .s2Parallel4: "s2-parallel-4"
        case .s2Parallel8: "s2-parallel-8"
        case .pgzip: "pgzip"
        case .pgzipBestSpeed: "pgzip-best-speed"
        case .pgzipBestCompression: "pgzip-best-compression"
        case .lz4: "lz4"
        case .deflateDefault: "deflate-default"
        case .deflateBestSpeed: "deflate-best-speed"
        case .deflateBestCompression: "deflate-best-compression"
        }
    }

    public var headerID: UInt32 {
        switch self {
        case .uncompressed: 0
        case .gzip: 0x1000
        case .gzipBestSpeed: 0x1001
        case .gzipBestCompression: 0x1002
        case .zstd: 0x1100
        case .zstdFastest: 0x1101
        case .zstdBetterCompression: 0x1102
        case .zstdBestCompression: 0x1103
        case .s2Default: 0x1200
        case .s2Better: 0x1201
        case .s2Parallel4: 0x1202
        case .s2Parallel8: 0x1203
        case .pgzip: 0x1300
        case .pgzipBestSpeed: 0x1301
        case .pgzipBestCompression: 0x1302
        case .lz4: 0x1400
        case .deflateDefault: 0x1500
        case .deflateBestSpeed: 0x1501
        case .deflateBestCompression: 0x1502
        }
    }

    /// The stream family, which decides the decoder.
    enum Family: Sendable { case none, gzip, zstd, s2, lz4, deflate }

    var family: Family {
        switch self {
        case .uncompressed: .none
        case .gzip, .gzipBestSpeed, .gzipBestCompression, .pgzip, .pgzipBestSpeed, .pgzipBestCompression: .gzip
        case .zstd, .zstdFastest, .zstdBetterCompression, .zstdBestCompression: .zstd
        case .s2Default, .s2Better, .s2Parallel4, .s2Parallel8: .s2
        case .lz4: .lz4
        case .deflateDefault, .deflateBestSpeed, .deflateBestCompression: .deflate
        }
    }
}
