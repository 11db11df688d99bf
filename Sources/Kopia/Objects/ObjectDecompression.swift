/// Object-level decompression of `Z` objects (kopia-format.md §5.2): the content plaintext is
/// `[u32 BE header ID][stream]` and the header names the algorithm.
enum ObjectDecompression {
    /// Longest chunk any Kopia splitter emits (the largest, `DYNAMIC-8M-*`, cuts at 2 × 8 MiB; `FIXED-8M` at
    /// 8 MiB), with room to spare: the bound for a `Z` content whose decoded length no chunk list states.
    static let maximumChunkLength = 64 << 20

    /// - Parameter expectedLength: the decoded length a chunk list states, when known; decompression stops past it.
    /// - Throws: `KopiaError` `.corruptContent` / `.unknownAlgorithm` from Codecs, with the content ID set.
    static func decompress(_ bytes: [UInt8], contentID: ContentID, expectedLength: Int64? = nil) throws -> [UInt8] {
        let limit = expectedLength.map { Int(clamping: max(0, $0)) } ?? maximumChunkLength
        do {
            return try Compression.decompress(bytes, maxOutputSize: limit)
        } catch let error as KopiaError {
            throw error.adding(contentID: contentID.description)
        } catch {
            throw KopiaError(.corruptContent, "compressed object does not decompress",
                             contentID: contentID.description, cause: error)
        }
    }
}
