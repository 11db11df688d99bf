/// Collects the entries of every active index blob and merges them into one `IndexTable`, resolving
/// duplicates exactly as kopia-format.md §7.3 says (kopia/kopia `repo/content/index/merged.go`;
/// `IndexWinnerRule`):
///
/// 1. the larger `timestampSeconds` wins;
/// 2. if equal, a non-deleted entry wins;
/// 3. if still equal, the lexicographically greater pack blob ID wins;
/// 4. if still equal, Ferry compares the remaining fields, so the winner never depends on load order.
///
/// A winner that is deleted with a timestamp ≤ the deletion watermark is dropped (the content is absent); a
/// deleted winner newer than the watermark stays (it is still readable).
///
/// Not thread-safe: one builder per index load. Peak memory ≈ entries × stride + a 4-byte permutation.
struct IndexTableBuilder {
    let keySize: Int
    private(set) var records: [UInt8] = []
    private(set) var packs: [String] = []
    private var packNumbers: [String: UInt32] = [:]
    private(set) var formats: [IndexTable.Format] = []
    private var formatNumbers: [IndexTable.Format: UInt16] = [:]
    /// The blob number of each record (`IndexProvenance`), filled by `endBlob`; records appended after the last
    /// `endBlob` get `UInt32.max` (no blob).
    private var tags: [UInt32] = []

    /// What `resolve` returns: the table and where its records came from (the blob list is the caller's).
    struct Resolved {
        var table: IndexTable
        var recordBlobs: [UInt32]
        var shadow: [UInt8]
        var shadowBlobs: [UInt32]
    }

    /// Every record, sorted by key (equal keys in load order), not yet resolved; see `sorted()`.
    struct Sorted {
        var keySize: Int
        var records: [UInt8]
        var blobs: [UInt32]
        var packs: [String]
        var formats: [IndexTable.Format]
        var stride: Int { keySize + IndexTable.valueSize }
        var count: Int { records.count / stride }
    }

    var stride: Int { keySize + IndexTable.valueSize }
    var count: Int { records.count / stride }

    init(keySize: Int) {
        self.keySize = keySize
    }

    /// Makes room for `entries` more records. Grows by at least half the capacity, so that many small blobs do
    /// not copy the table once each; `IndexLoader` reserves the whole estimate up front, so this rarely grows.
    mutating func reserve(entries: Int) {
        let needed = records.count + entries * stride
        guard needed > records.capacity else { return }
        records.reserveCapacity(max(needed, records.capacity + records.capacity / 2))
    }

    /// Replaces the blob-local pack and format numbers of `range` (as appended by a streaming decoder) with
    /// table numbers. Every local number was checked against the blob's table sizes when appended.
    mutating func remap(records range: Range<Int>, packs: [UInt32], formats: [UInt16]) {
        let stride = self.stride
        let keySize = self.keySize
        records.withUnsafeMutableBytes { buf in
            for r in range {
                let v = r * stride + keySize
                let pack = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: v + 8, as: UInt32.self))
                let format = UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: v + 24, as: UInt16.self))
                buf.storeBytes(of: packs[Int(pack)].littleEndian, toByteOffset: v + 8, as: UInt32.self)
                buf.storeBytes(of: formats[Int(format)].littleEndian, toByteOffset: v + 24, as: UInt16.self)
            }
        }
    }

    /// The number of `name` in the pack table, adding it if new.
    mutating func packNumber(_ name: String) -> UInt32 {
        if let n = packNumbers[name] { return n }
        let n = UInt32(packs.count)
        packs.append(name)
        packNumbers[name] = n
        return n
    }

    /// The number of `format`, adding it if new. At most 65536 distinct formats (index v2 allows 255 per blob).
    mutating func formatNumber(_ format: IndexTable.Format) throws(KopiaError) -> UInt16 {
        if let n = formatNumbers[format] { return n }
        guard formats.count < Int(UInt16.max) else {
            throw KopiaError(.corruptBlob, "the index blobs hold more than 65535 distinct content formats")
        }
        let n = UInt16(formats.count)
        formats.append(format)
        formatNumbers[format] = n
        return n
    }

    /// Marks every record appended since the previous call as coming from blob `number`.
    mutating func endBlob(_ number: UInt32) {
        let n = count
        if tags.count < n { tags.append(contentsOf: repeatElement(number, count: n - tags.count)) }
    }

    /// Appends one entry. `key` must hold exactly `keySize` bytes (decoders check this).
    mutating func append(key: UnsafeRawBufferPointer, timestamp: Int64, pack: UInt32, offset: UInt32,
                         packedLength: UInt32, originalLength: UInt32, format: UInt16, deleted: Bool) {
        records.append(contentsOf: key)
        withUnsafeBytes(of: timestamp.littleEndian) { records.append(contentsOf: $0) }
        withUnsafeBytes(of: pack.littleEndian) { records.append(contentsOf: $0) }
        withUnsafeBytes(of: offset.littleEndian) { records.append(contentsOf: $0) }
        withUnsafeBytes(of: packedLength.littleEndian) { records.append(contentsOf: $0) }
        withUnsafeBytes(of: originalLength.littleEndian) { records.append(contentsOf: $0) }
        withUnsafeBytes(of: format.littleEndian) { records.append(contentsOf: $0) }
        records.append(deleted ? 1 : 0)
        records.append(0)
    }

    /// Sorts, resolves duplicates (§7.3), applies the watermark and returns the table.
    /// - Parameter watermark: deletion watermark in Unix seconds (`Int64.min` for none).
    mutating func build(watermark: Int64) -> IndexTable {
        resolve(watermark: watermark).table
    }

    /// Every record sorted by key, with its blob number, pack and format tables; the builder is left empty. The
    /// incremental refresh sorts only the added blobs' records this way and merges them (`IndexMerge`).
    mutating func sorted() -> Sorted {
        let packs = self.packs
        let formats = self.formats
        let (records, blobs) = sortInPlace()
        return Sorted(keySize: keySize, records: records, blobs: blobs, packs: packs, formats: formats)
    }

    /// Sorts, resolves duplicates (§7.3), applies the watermark and returns the table with its provenance: the
    /// blob number of every table record, and the records that are not in the table (losers and dropped
    /// deletions) in `shadow`, so that a later refresh can resolve again without the blobs (`IndexProvenance`).
    ///
    /// In place: the records are sorted through a 4-byte permutation, which is then applied by following its
    /// cycles, and the winners are compacted towards the front. Peak memory is the records plus the permutation
    /// and the blob numbers — not a second copy of the table (at a million contents the copy was 60 MiB on top of
    /// a 60 MiB table, the highest point of a whole `ferry restore`; issue 16).
    ///
    /// `mutating`, not `consuming`: the records are swapped out of `self`, which leaves the builder empty and
    /// this function the buffer's only owner. (A `consuming` call on a builder captured by a closure — the
    /// loader's task group — copies the value, the capture box keeps a second reference to the records, and
    /// the sort's first write then copied all 45 MiB of them: that was the 1M restore's peak, not the plaintext.)
    /// - Parameter watermark: deletion watermark in Unix seconds (`Int64.min` for none).
    mutating func resolve(watermark: Int64) -> Resolved {
        let packs = self.packs
        let formats = self.formats
        let keySize = self.keySize
        let stride = self.stride
        var (records, blobs) = sortInPlace()
        let n = records.count / stride
        var shadow: [UInt8] = []
        var shadowBlobs: [UInt32] = []
        var kept = 0
        records.withUnsafeMutableBytes { buf in
            let base = UnsafeRawBufferPointer(buf)
            func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
                UnsafeMutableRawBufferPointer(rebasing: buf[i * stride..<(i + 1) * stride])
            }
            // Winners move to the front; `kept` never passes the group being read, and a group's other records
            // go to the shadow before its winner may overwrite the first of them.
            var i = 0
            while i < n {
                var winner = i
                var j = i + 1
                while j < n,
                      IndexTable.compare(base, j * stride, UnsafeRawBufferPointer(rebasing: base[(i * stride)...]),
                                         keySize) == 0 {
                    if IndexWinnerRule.wins(base, j * stride, over: winner * stride, keySize: keySize, packs: packs,
                                            formats: formats) {
                        winner = j
                    }
                    j += 1
                }
                let dropped = IndexWinnerRule.isDropped(base, winner * stride, keySize: keySize, watermark: watermark)
                for r in i..<j where r != winner || dropped {
                    shadow.append(contentsOf: UnsafeRawBufferPointer(slot(r)))
                    shadowBlobs.append(blobs[r])
                }
                if !dropped {
                    let blob = blobs[winner]
                    if winner != kept { slot(kept).copyMemory(from: UnsafeRawBufferPointer(slot(winner))) }
                    blobs[kept] = blob
                    kept += 1
                }
                i = j
            }
        }
        records.removeLast((n - kept) * stride)
        blobs.removeLast(n - kept)
        return Resolved(table: IndexTable(keySize: keySize, records: records, packs: packs, formats: formats),
                        recordBlobs: blobs, shadow: shadow, shadowBlobs: shadowBlobs)
    }

    /// Sorts the records by key (equal keys keep their load order) and empties the builder.
    private mutating func sortInPlace() -> (records: [UInt8], blobs: [UInt32]) {
        let n = count
        let stride = self.stride
        let keySize = self.keySize
        if tags.count < n { tags.append(contentsOf: repeatElement(UInt32.max, count: n - tags.count)) }
        var order = [Int32](unsafeUninitializedCapacity: n) { buf, initialized in
            for i in 0..<n { buf[i] = Int32(i) }
            initialized = n
        }
        var records: [UInt8] = []
        swap(&records, &self.records)  // the only reference left: sorted in place, no copy
        var tags: [UInt32] = []
        swap(&tags, &self.tags)
        self.packs = []
        self.formats = []
        packNumbers = [:]
        formatNumbers = [:]
        records.withUnsafeMutableBytes { buf in
            let base = UnsafeRawBufferPointer(buf)
            order.sort { a, b in
                let c = IndexTable.compare(base, Int(a) * stride,
                                           UnsafeRawBufferPointer(rebasing: base[(Int(b) * stride)...]), keySize)
                return c < 0 || (c == 0 && a < b)
            }
        }
        let blobs = [UInt32](unsafeUninitializedCapacity: n) { buf, initialized in
            for i in 0..<n { buf[i] = tags[Int(order[i])] }
            initialized = n
        }
        tags = []
        records.withUnsafeMutableBytes { buf in
            // Record order[i] goes to position i: walk each cycle once, marking visited slots with ~.
            let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: stride, alignment: 8)
            defer { spare.deallocate() }
            func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
                UnsafeMutableRawBufferPointer(rebasing: buf[i * stride..<(i + 1) * stride])
            }
            for start in 0..<n where order[start] >= 0 {
                spare.copyMemory(from: UnsafeRawBufferPointer(slot(start)))
                var j = start
                while true {
                    let k = Int(order[j])
                    order[j] = ~order[j]
                    if k == start {
                        slot(j).copyMemory(from: UnsafeRawBufferPointer(spare))
                        break
                    }
                    slot(j).copyMemory(from: UnsafeRawBufferPointer(slot(k)))
                    j = k
                }
            }
        }
        return (records, blobs)
    }
}
