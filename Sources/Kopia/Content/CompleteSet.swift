/// Complete-set semantics of compacted index blobs (kopia-format.md §8.1; kopia/kopia
/// `internal/completeset/complete_set.go`).
///
/// A blob ID `<anything>-s<setid>-c<count>` (split on `-`) belongs to set `setid` of `count` blobs; a set is
/// complete when `count` blobs share `setid`. An ID that does not match the pattern is a complete set of its
/// own. The blobs are scanned in ID order so the result does not depend on the backend's listing order.
enum CompleteSet {
    /// The first complete set among `blobs`, or an empty array.
    static func findFirst(_ blobs: [BlobMetadata]) -> [BlobMetadata] {
        var sets: [String: [BlobMetadata]] = [:]
        for blob in blobs.sorted(by: { $0.id < $1.id }) {
            guard let (setID, count) = parse(blob.id) else { return [blob] }
            sets[setID, default: []].append(blob)
            if let members = sets[setID], members.count == count { return members }
        }
        return []
    }

    static func parse(_ id: String) -> (setID: String, count: Int)? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        let setPart = parts[parts.count - 2]
        let countPart = parts[parts.count - 1]
        guard setPart.hasPrefix("s"), countPart.hasPrefix("c"), let count = Int(countPart.dropFirst()), count > 0
        else { return nil }
        return (String(setPart), count)
    }
}
