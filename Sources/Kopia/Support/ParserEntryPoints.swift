import Foundation

/// One `package` door to the parsers that read bytes from outside (blob names, index blobs, S3 answers), for the
/// libFuzzer harnesses in `Benchmarks/Fuzz` and for tests that must not depend on `@testable` (release builds
/// compile every target). Each call is the parser itself, not a copy; nothing here is public API.
package enum ParserEntryPoints {
    /// Decodes one decrypted index blob (v1 or v2 by its first byte) and reads back every entry.
    /// - Returns: the number of entries.
    package static func decodeIndex(_ plaintext: [UInt8], hashLength: Int) throws(KopiaError) -> Int {
        var builder = IndexTableBuilder(keySize: 1 + hashLength)
        try IndexLoader.decode(plaintext, blobID: "xn0_fuzz", into: &builder)
        let table = builder.build(watermark: Int64.min)
        var total = 0
        for i in 0..<table.count { total &+= Int(table.info(at: i).originalLength) }
        return total
    }

    /// Parses a ListObjectsV2 page.
    package static func parseS3Listing(_ body: [UInt8]) throws(KopiaError) -> Int {
        try S3ListObjectsPage.parse(body).objects.count
    }

    /// Parses an S3 error body (never throws: an unparseable body is a plain HTTP error).
    package static func parseS3Error(_ body: [UInt8]) -> String {
        S3ServiceError.parse(status: 400, header: { _ in nil }, body: body, operation: .get, url: "https://fuzz/").description
    }

    /// Parses an S3 `LastModified`.
    package static func parseS3Time(_ text: String) -> Double? {
        S3ListObjectsPage.parseTime(text)?.timeIntervalSince1970
    }

    /// Chooses the active index blobs among `names` (each sorted into its listing by prefix).
    package static func selectEpochBlobs(_ names: [String]) -> Int {
        let metas = names.map { BlobMetadata(id: $0, length: 1) }
        func with(_ p: String) -> [BlobMetadata] { metas.filter { $0.id.hasPrefix(p) } }
        return EpochIndexBlobs.select(markers: with("xe"), watermarks: with("xw"), singles: with("xs"),
                                      ranges: with("xr"), uncompacted: with("xn")).active.count
    }

    /// Decodes one raw S2 block into a buffer of `capacity` bytes.
    package static func decodeS2Block(_ src: [UInt8], capacity: Int) throws(KopiaError) {
        var dst = [UInt8](repeating: 0, count: max(0, capacity))
        var failure: KopiaError?
        src.withUnsafeBytes { s in
            dst.withUnsafeMutableBytes { d in
                do throws(KopiaError) { try S2Decoder.decodeBlock(s, into: d) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }
}
