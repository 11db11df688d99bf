/// Content-level decompression (kopia-format.md §5, §5.2): the decrypted bytes are `[u32 BE header][stream]`.
///
/// TEMPORARY: Codecs/Compression has not landed on main yet; until it does, compressed contents throw
/// `.unknownAlgorithm` naming the header. This file becomes a one-line forward to `Compression.decompress`.
enum ContentDecompression {
    static func decompress(_ data: [UInt8], headerID: UInt32) throws -> [UInt8] {
        throw KopiaError(.unknownAlgorithm,
                         "compression 0x\(String(headerID, radix: 16)) is not supported by this build yet")
    }
}
