/// The reads a restore makes, derived from a plan (kopia-format.md §13 "where Ferry's reader can win"): every
/// distinct content once, grouped by pack blob, sorted by offset, and cut into ranged reads that coalesce
/// neighbours whose gap is small — so many small files become a few large sequential reads, and a content shared
/// by many files (zero blocks, duplicates) is read and decoded once and written to every place that needs it.
struct ReadSchedule: Sendable {
    /// Where one decoded chunk goes.
    struct Target: Sendable {
        let file: Int
        let offset: Int64
        let length: Int64
        /// The object ID says `Z`: the content holds `[u32 header][stream]` to decompress.
        let decompress: Bool
        /// `length` is authoritative (a chunk-list entry); false for a direct object, whose length is whatever
        /// the content decodes to.
        let exactLength: Bool
    }

    struct Content: Sendable {
        let info: ContentInfo
        var targets: [Target]
    }

    /// One ranged read of one pack and the contents it holds.
    struct Unit: Sendable {
        let pack: String
        let offset: Int64
        let length: Int
        let contents: [Content]
        /// Bytes of memory this unit needs at its peak (the range plus decode buffers).
        let memoryCost: Int
    }

    var units: [Unit] = []
    /// Chunks whose content the index does not know: (file, error).
    var missing: [(file: Int, error: KopiaError)] = []
    var contentCount = 0

    /// - Parameter maximumContents: a unit holds at most this many contents, so a window of many small files
    ///   packed side by side still spreads over every worker (their writes, not the read, are the work).
    init(files: [RestorePlan.PlannedFile], source: any RestoreContentSource, maximumGap: Int, maximumLength: Int,
         maximumContents: Int = 256) {
        var index: [ContentID: Int] = [:]
        var contents: [Content] = []
        for (fileIndex, file) in files.enumerated() {
            for chunk in file.chunks {
                let target = Target(file: fileIndex, offset: chunk.start, length: chunk.length,
                                    decompress: chunk.isCompressed, exactLength: !file.lengthFromContent)
                if let i = index[chunk.contentID] {
                    contents[i].targets.append(target)
                    continue
                }
                guard let info = source.locate(chunk.contentID) else {
                    missing.append((fileIndex, KopiaError(.contentNotFound, "the repository index has no such content",
                                                          contentID: chunk.contentID.description,
                                                          objectID: file.entry.objectID.description)))
                    continue
                }
                index[chunk.contentID] = contents.count
                contents.append(Content(info: info, targets: [target]))
            }
        }
        contentCount = contents.count
        var byPack: [String: [Int]] = [:]
        for (i, c) in contents.enumerated() { byPack[c.info.packBlobID, default: []].append(i) }
        for pack in byPack.keys.sorted() {
            guard let members = byPack[pack] else { continue }
            let sorted = members.sorted { contents[$0].info.packOffset < contents[$1].info.packOffset }
            var run: [Content] = []
            var start: Int64 = 0
            var end: Int64 = 0
            func flush() {
                guard !run.isEmpty else { return }
                let largest = run.map { Int($0.info.originalLength) }.max() ?? 0
                units.append(Unit(pack: pack, offset: start, length: Int(end - start), contents: run,
                                  memoryCost: Int(end - start) + 2 * largest))
                run = []
            }
            for i in sorted {
                let range = contents[i].info.packRange
                if !run.isEmpty,
                   range.lowerBound - end > Int64(maximumGap) || range.upperBound - start > Int64(maximumLength)
                    || run.count >= maximumContents
                {
                    flush()
                }
                if run.isEmpty {
                    start = range.lowerBound
                    end = range.upperBound
                }
                end = max(end, range.upperBound)
                run.append(contents[i])
            }
            flush()
        }
    }
}
