import Foundation
import KopiaTestSupport
@testable import Kopia
import Synchronization
import Testing

/// Helpers for the incremental-refresh tests: comparing a refreshed index with a full load, and counting which
/// blobs a refresh reads.
enum IndexRefreshSupport {
    /// Every record of a load as text — the table's rows in order, and the multiset of all rows (table and
    /// shadow) with the blob each came from — so that two loads compare field by field.
    struct Contents: Equatable, CustomStringConvertible {
        var blobs: [String]
        var watermark: Int64
        var rows: [ContentInfo]
        var everyRecord: [Record: Int]
        var rawEntries: Int

        init(_ r: IndexLoader.Result) {
            blobs = r.indexBlobs.map { "\($0.id):\($0.length)" }
            watermark = r.watermark
            rows = (0..<r.table.count).map(r.table.info(at:))
            rawEntries = r.rawEntries
            var all: [Record: Int] = [:]
            for (i, row) in rows.enumerated() {
                all[Record(info: row, blob: Self.blob(r, r.provenance.recordBlobs[i])), default: 0] += 1
            }
            let shadow = IndexTable(keySize: r.table.keySize, records: r.provenance.shadow, packs: r.table.packs,
                                    formats: r.table.formats)
            for i in 0..<shadow.count {
                let row = shadow.info(at: i)
                all[Record(info: row, blob: Self.blob(r, r.provenance.shadowBlobs[i])), default: 0] += 1
            }
            everyRecord = all
        }

        /// One record of an active blob.
        struct Record: Hashable, Comparable, CustomStringConvertible {
            var info: ContentInfo
            var blob: String
            var description: String { "\(info) ts=\(info.timestampSeconds) from \(blob)" }
            static func < (a: Record, b: Record) -> Bool { a.description < b.description }
        }

        static func blob(_ r: IndexLoader.Result, _ n: UInt32) -> String {
            Int(n) < r.indexBlobs.count ? r.indexBlobs[Int(n)].id : "?\(n)"
        }

        var description: String { "\(blobs.count) blobs, \(rows.count) rows, \(rawEntries) records" }
    }

    /// The first difference between two loads, for a readable failure.
    static func difference(_ a: Contents, _ b: Contents) -> String {
        if a.blobs != b.blobs { return "blobs \(a.blobs) vs \(b.blobs)" }
        if a.watermark != b.watermark { return "watermark \(a.watermark) vs \(b.watermark)" }
        if a.rows != b.rows {
            if a.rows.count != b.rows.count { return "\(a.rows.count) vs \(b.rows.count) rows" }
            if let i = a.rows.indices.first(where: { a.rows[$0] != b.rows[$0] }) { return "row \(i): \(a.rows[i]) vs \(b.rows[i])" }
        }
        if a.everyRecord != b.everyRecord {
            let only = a.everyRecord.filter { b.everyRecord[$0.key] != $0.value }.keys.sorted().prefix(3)
            let other = b.everyRecord.filter { a.everyRecord[$0.key] != $0.value }.keys.sorted().prefix(3)
            return "records \(Array(only)) vs \(Array(other))"
        }
        if a.rawEntries != b.rawEntries { return "raw \(a.rawEntries) vs \(b.rawEntries)" }
        return "none"
    }

    /// Encrypts `plaintext` as a whole index blob named `prefix + hex(hash) + suffix` (§4.3) and writes it.
    @discardableResult
    static func writeIndexBlob(_ plaintext: [UInt8], prefix: String, suffix: String, format: RepositoryFormat,
                               storage: any BlobStorage) async throws -> String {
        let id = prefix + Hex.encode(format.hasher.hash(plaintext)) + suffix
        try await storage.write(id, try format.seal(plaintext, iv: try ContentCipher.blobIV(forBlobID: id)))
        return id
    }
}

/// Records the IDs of the blobs read through it (whole or ranged); everything else passes through.
final class ReadRecordingStorage: ForwardingStorage {
    let base: any BlobStorage
    private let reads = Mutex<[String]>([])

    init(_ base: any BlobStorage) {
        self.base = base
    }

    /// The blobs read since the last call, and forgets them.
    func takeReads() -> [String] {
        reads.withLock { r in
            defer { r = [] }
            return r
        }
    }

    func read(_ id: String) async throws -> [UInt8] {
        reads.withLock { $0.append(id) }
        return try await base.read(id)
    }

    func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        reads.withLock { $0.append(id) }
        return try await base.read(id, offset: offset, length: length)
    }
}
