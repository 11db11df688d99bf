/// The incremental half of an index refresh (kopia-format.md §7.3, §8): builds the merged table of a changed
/// index-blob set from the previous table and its `IndexProvenance` plus the records of the added blobs only.
///
/// Every record of every still-active blob is in the previous table or its shadow, tagged with its blob. The merge
/// walks the three sorted inputs (previous table, previous shadow, added records) once, drops records whose blob
/// is gone, and resolves each key again with `IndexWinnerRule` and the new watermark — the same decision a full
/// load makes over the same records, so the result is the same table (tested against full loads).
///
/// Cost: one pass over the previous entries (no re-read, no re-parse, no re-sort of them) plus sorting the added
/// records. Memory: the new table and shadow are written once into buffers reserved up front; the previous ones
/// belong to the caller, who drops them when the new table is swapped in. Pack and format tables are rebuilt
/// from the records kept, so names of packs only removed blobs named do not accumulate. Pure.
enum IndexMerge {
    /// - Parameters:
    ///   - previous: the table of the previous load and its provenance (blob numbers into `previous.blobs`).
    ///   - blobNumbers: for each previous blob number, its number in the new blob list, or `UInt32.max` when
    ///     the blob is no longer active.
    ///   - added: the added blobs' records, sorted by key, numbered in the new blob list.
    ///   - watermark: the new deletion watermark.
    /// - Throws: `.corruptBlob` when the blobs together hold more than 65535 distinct content formats.
    static func merge(previous table: IndexTable, provenance: IndexProvenance, blobNumbers: [UInt32],
                      added: IndexTableBuilder.Sorted, watermark: Int64) throws(KopiaError)
        -> IndexTableBuilder.Resolved
    {
        let keySize = table.keySize
        let stride = table.stride
        var out = Output(keySize: keySize)
        out.records.reserveCapacity(table.records.count + added.records.count)
        out.blobs.reserveCapacity(table.count + added.count)
        var oldPacks = [UInt32](repeating: .max, count: table.packs.count)
        var oldFormats = [UInt16](repeating: .max, count: table.formats.count)
        var newPacks = [UInt32](repeating: .max, count: added.packs.count)
        var newFormats = [UInt16](repeating: .max, count: added.formats.count)
        var group: [UInt8] = []
        var groupBlobs: [UInt32] = []
        table.records.withUnsafeBytes { t in
            provenance.shadow.withUnsafeBytes { s in
                added.records.withUnsafeBytes { a in
                    var cursors = [
                        Cursor(bytes: t, count: table.count, blobs: provenance.recordBlobs, renumber: blobNumbers,
                               old: true),
                        Cursor(bytes: s, count: provenance.shadowCount(stride: stride), blobs: provenance.shadowBlobs,
                               renumber: blobNumbers, old: true),
                        Cursor(bytes: a, count: added.count, blobs: added.blobs, renumber: [], old: false),
                    ]
                    let recordBlobs = provenance.recordBlobs
                    while true {
                        // Fast path: previous-table records whose key is below both other heads form a group of
                        // one (the table's keys are unique), so they go straight out.
                        var i = cursors[0].index
                        let n = cursors[0].count
                        let shadowHead = cursors[1].index < cursors[1].count
                            ? UnsafeRawBufferPointer(rebasing: s[(cursors[1].index * stride)...]) : nil
                        let addedHead = cursors[2].index < cursors[2].count
                            ? UnsafeRawBufferPointer(rebasing: a[(cursors[2].index * stride)...]) : nil
                        while i < n {
                            if let h = shadowHead, IndexTable.compare(t, i * stride, h, keySize) >= 0 { break }
                            if let h = addedHead, IndexTable.compare(t, i * stride, h, keySize) >= 0 { break }
                            let tag = i < recordBlobs.count ? Int(recordBlobs[i]) : Int.max
                            let blob = tag < blobNumbers.count ? blobNumbers[tag] : .max
                            if blob != .max {
                                out.appendAlone(UnsafeRawBufferPointer(rebasing: t[i * stride..<(i + 1) * stride]),
                                                blob: blob, packs: table.packs, formats: table.formats,
                                                packMap: &oldPacks, formatMap: &oldFormats, watermark: watermark)
                            }
                            i += 1
                        }
                        cursors[0].index = i
                        // The smallest key among the three heads.
                        var lowest: Int?
                        for c in cursors.indices where cursors[c].index < cursors[c].count {
                            guard let l = lowest else { lowest = c; continue }
                            if IndexTable.compare(cursors[c].bytes, cursors[c].index * stride,
                                                  UnsafeRawBufferPointer(rebasing: cursors[l].bytes[(cursors[l].index * stride)...]),
                                                  keySize) < 0 {
                                lowest = c
                            }
                        }
                        guard let l = lowest else { break }
                        let key = UnsafeRawBufferPointer(rebasing: cursors[l].bytes[(cursors[l].index * stride)...])
                        group.removeAll(keepingCapacity: true)
                        groupBlobs.removeAll(keepingCapacity: true)
                        for c in cursors.indices {
                            while cursors[c].index < cursors[c].count,
                                  IndexTable.compare(cursors[c].bytes, cursors[c].index * stride, key, keySize) == 0 {
                                let r = cursors[c].index
                                cursors[c].index += 1
                                let blob = cursors[c].blob(r)
                                guard blob != .max else { continue }  // its blob is gone
                                let record = UnsafeRawBufferPointer(rebasing: cursors[c].bytes[r * stride..<(r + 1) * stride])
                                if cursors[c].old {
                                    out.append(record, to: &group, packs: table.packs, formats: table.formats,
                                               packMap: &oldPacks, formatMap: &oldFormats)
                                } else {
                                    out.append(record, to: &group, packs: added.packs, formats: added.formats,
                                               packMap: &newPacks, formatMap: &newFormats)
                                }
                                groupBlobs.append(blob)
                            }
                        }
                        out.resolve(group: group, blobs: groupBlobs, watermark: watermark)
                    }
                }
            }
        }
        if out.tooManyFormats {
            throw KopiaError(.corruptBlob, "the index blobs hold more than 65535 distinct content formats")
        }
        return IndexTableBuilder.Resolved(
            table: IndexTable(keySize: keySize, records: out.records, packs: out.packs, formats: out.formats),
            recordBlobs: out.blobs, shadow: out.shadow, shadowBlobs: out.shadowBlobs)
    }

    /// A read position in one sorted input.
    private struct Cursor {
        var bytes: UnsafeRawBufferPointer
        var count: Int
        var blobs: [UInt32]
        /// Old blob number → new one (`.max`: removed); empty when the input is already numbered anew.
        var renumber: [UInt32]
        var old: Bool
        var index = 0

        init(bytes: UnsafeRawBufferPointer, count: Int, blobs: [UInt32], renumber: [UInt32], old: Bool) {
            self.bytes = bytes
            self.count = count
            self.blobs = blobs
            self.renumber = renumber
            self.old = old
        }

        /// The record's blob in the new numbering, or `.max` when its blob is gone.
        func blob(_ r: Int) -> UInt32 {
            guard r < blobs.count else { return .max }
            let b = blobs[r]
            guard old else { return b }
            return Int(b) < renumber.count ? renumber[Int(b)] : .max
        }
    }

    /// The new table, shadow and their pack and format tables.
    private struct Output {
        let keySize: Int
        var records: [UInt8] = []
        var blobs: [UInt32] = []
        var shadow: [UInt8] = []
        var shadowBlobs: [UInt32] = []
        var packs: [String] = []
        var formats: [IndexTable.Format] = []
        private var packNumbers: [String: UInt32] = [:]
        private var formatNumbers: [IndexTable.Format: UInt16] = [:]

        init(keySize: Int) {
            self.keySize = keySize
        }

        var stride: Int { keySize + IndexTable.valueSize }

        /// Appends `record` to `group` with its pack and format renumbered into this output's tables.
        mutating func append(_ record: UnsafeRawBufferPointer, to group: inout [UInt8], packs from: [String],
                             formats fromFormats: [IndexTable.Format], packMap: inout [UInt32],
                             formatMap: inout [UInt16]) {
            let (p, f) = numbers(of: record, packs: from, formats: fromFormats, packMap: &packMap, formatMap: &formatMap)
            Self.emit(record, pack: p, format: f, keySize: keySize, into: &group)
        }

        /// The output's pack and format numbers for `record`'s, assigned on first use.
        mutating func numbers(of record: UnsafeRawBufferPointer, packs from: [String],
                              formats fromFormats: [IndexTable.Format], packMap: inout [UInt32],
                              formatMap: inout [UInt16]) -> (UInt32, UInt16) {
            let pack = Int(UInt32(littleEndian: record.loadUnaligned(fromByteOffset: keySize + 8, as: UInt32.self)))
            let format = Int(UInt16(littleEndian: record.loadUnaligned(fromByteOffset: keySize + 24, as: UInt16.self)))
            // The numbers were assigned by the builder that filled `from`/`fromFormats`.
            if packMap[pack] == .max { packMap[pack] = number(pack: from[pack]) }
            if formatMap[format] == .max { formatMap[format] = number(format: fromFormats[format]) }
            return (packMap[pack], formatMap[format])
        }

        /// Appends `record` to `out` with pack and format numbers `pack` and `format`.
        static func emit(_ record: UnsafeRawBufferPointer, pack: UInt32, format: UInt16, keySize: Int,
                         into out: inout [UInt8]) {
            let start = out.count
            out.append(contentsOf: record)
            out.withUnsafeMutableBytes { g in
                g.storeBytes(of: pack.littleEndian, toByteOffset: start + keySize + 8, as: UInt32.self)
                g.storeBytes(of: format.littleEndian, toByteOffset: start + keySize + 24, as: UInt16.self)
            }
        }

        private mutating func number(pack name: String) -> UInt32 {
            if let n = packNumbers[name] { return n }
            let n = UInt32(packs.count)
            packs.append(name)
            packNumbers[name] = n
            return n
        }

        /// Set when the inputs together hold more formats than a table can number (the merge then fails, as the
        /// builder does).
        var tooManyFormats = false

        private mutating func number(format: IndexTable.Format) -> UInt16 {
            if let n = formatNumbers[format] { return n }
            guard formats.count < Int(UInt16.max) else {
                tooManyFormats = true
                return 0
            }
            let n = UInt16(formats.count)
            formats.append(format)
            formatNumbers[format] = n
            return n
        }

        /// A record that is alone in its group: to the table, or to the shadow when it is a dropped deletion.
        mutating func appendAlone(_ record: UnsafeRawBufferPointer, blob: UInt32, packs from: [String],
                                  formats fromFormats: [IndexTable.Format], packMap: inout [UInt32],
                                  formatMap: inout [UInt16], watermark: Int64) {
            let (p, f) = numbers(of: record, packs: from, formats: fromFormats, packMap: &packMap, formatMap: &formatMap)
            if IndexWinnerRule.isDropped(record, 0, keySize: keySize, watermark: watermark) {
                Self.emit(record, pack: p, format: f, keySize: keySize, into: &shadow)
                shadowBlobs.append(blob)
            } else {
                Self.emit(record, pack: p, format: f, keySize: keySize, into: &records)
                blobs.append(blob)
            }
        }

        /// One key's records (`group`, renumbered): the winner to the table unless dropped, the rest to the shadow.
        mutating func resolve(group: [UInt8], blobs groupBlobs: [UInt32], watermark: Int64) {
            let stride = self.stride
            let n = group.count / stride
            guard n > 0 else { return }
            let keySize = self.keySize
            let packs = self.packs
            let formats = self.formats
            group.withUnsafeBytes { g in
                var winner = 0
                if n > 1 {
                    for r in 1..<n where IndexWinnerRule.wins(g, r * stride, over: winner * stride, keySize: keySize,
                                                              packs: packs, formats: formats) {
                        winner = r
                    }
                }
                let dropped = IndexWinnerRule.isDropped(g, winner * stride, keySize: keySize, watermark: watermark)
                for r in 0..<n where r != winner || dropped {
                    shadow.append(contentsOf: UnsafeRawBufferPointer(rebasing: g[r * stride..<(r + 1) * stride]))
                    shadowBlobs.append(groupBlobs[r])
                }
                if !dropped {
                    records.append(contentsOf: UnsafeRawBufferPointer(rebasing: g[winner * stride..<(winner + 1) * stride]))
                    blobs.append(groupBlobs[winner])
                }
            }
        }
    }
}
