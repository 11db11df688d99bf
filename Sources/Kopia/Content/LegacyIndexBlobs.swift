import Foundation

/// Chooses the active index blobs of a legacy (v0 manager, format v1) repository (kopia-format.md §8.2;
/// kopia/kopia `repo/content/indexblob/index_blob_manager_v0.go`).
///
/// 1. list `n` (index) and `m` (compaction log) blobs; 2. each `m` decrypts (§4.3) to
/// `{"inputMetadata":[{"id",…}],"outputMetadata":[…]}`; 3. a log whose outputs are **all** listed drops its
/// inputs; 4. active = the remaining `n` blobs, minus the upgrade "poison" blob. No deletion watermark.
enum LegacyIndexBlobs {
    static let poisonMarker = "repository_unreadable_by_this_kopia_version"

    struct CompactionLog: Decodable, Sendable {
        struct Entry: Decodable, Sendable {
            var id: String
        }
        var inputMetadata: [Entry]?
        var outputMetadata: [Entry]?

        /// Parses a decrypted log. - Throws: `.corruptBlob` naming `blobID`.
        static func decode(_ plaintext: [UInt8], blobID: String) throws(KopiaError) -> CompactionLog {
            do {
                return try JSONDecoder().decode(CompactionLog.self, from: Data(plaintext))
            } catch {
                throw KopiaError(.corruptBlob, "index compaction log does not parse", blobID: blobID, cause: error)
            }
        }
    }

    /// Applies §8.2 to the `n` listing and the decoded compaction logs.
    static func select(indexBlobs: [BlobMetadata], logs: [CompactionLog]) -> [BlobMetadata] {
        let listed = Set(indexBlobs.map(\.id))
        var superseded = Set<String>()
        for log in logs {
            let outputs = (log.outputMetadata ?? []).map(\.id)
            if outputs.allSatisfy(listed.contains) {
                superseded.formUnion((log.inputMetadata ?? []).map(\.id))
            }
        }
        return indexBlobs
            .filter { !superseded.contains($0.id) && !$0.id.contains(poisonMarker) }
            .sorted { $0.id < $1.id }
    }
}
