/// Object-level decompression of `Z` objects (kopia-format.md §5.2): the content plaintext is
/// `[u32 BE header ID][stream]` and the header names the algorithm.
///
/// TEMPORARY: Codecs/Compression has not landed on main yet; until it does, only header 0 (stored) decodes and
/// other headers throw `.unknownAlgorithm` naming it. This becomes a forward to `Compression.decompress`.
/// (`Z` objects occur only in legacy repositories; the fixtures have none.)
enum ObjectDecompression {
    /// - Throws: `KopiaError` `.corruptContent` / `.unknownAlgorithm` with the content ID set.
    static func decompress(_ bytes: [UInt8], contentID: ContentID) throws -> [UInt8] {
        var reader = ByteReader(bytes, what: "compressed object")
        let header: UInt32
        do {
            header = try reader.readUInt32BE()
        } catch {
            throw error.adding(contentID: contentID.description)
        }
        guard header == 0 else {
            throw KopiaError(.unknownAlgorithm,
                             "object compression 0x\(String(header, radix: 16)) is not supported by this build yet",
                             contentID: contentID.description)
        }
        return Array(bytes[4...])
    }
}
