/// Gunzip for manifest contents (kopia-format.md §10: the JSON inside a manifest content is gzip'd).
enum ManifestDecompression {
    /// - Throws: `KopiaError` `.invalidManifest` when the bytes are not a complete gzip stream.
    static func gunzip(_ input: [UInt8]) throws(KopiaError) -> [UInt8] {
        do {
            return try Compression.gunzip(input)
        } catch {
            throw KopiaError(.invalidManifest, "manifest content is not a complete gzip stream", cause: error)
        }
    }
}
