/// Object-level decompression of `Z` objects (kopia-format.md §5.2): the content plaintext is
/// `[u32 BE header ID][stream]` and the header names the algorithm.
enum ObjectDecompression {
    /// - Throws: `KopiaError` `.corruptContent` / `.unknownAlgorithm` from Codecs, with the content ID set.
    static func decompress(_ bytes: [UInt8], contentID: ContentID) throws -> [UInt8] {
        do {
            return try Compression.decompress(bytes)
        } catch let error as KopiaError {
            throw error.adding(contentID: contentID.description)
        } catch {
            throw KopiaError(.corruptContent, "compressed object does not decompress",
                             contentID: contentID.description, cause: error)
        }
    }
}
