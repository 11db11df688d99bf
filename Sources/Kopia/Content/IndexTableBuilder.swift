/// Collects the entries of every active index blob and merges them into one `IndexTable`, resolving
/// duplicates exactly as kopia-format.md §7.3 says (kopia/kopia `repo/content/index/merged.go`):
///
/// 1. the larger `timestampSeconds` wins;
/// 2. if equal, a non-deleted entry wins;
/// 3. if still equal, the lexicographically greater pack blob ID wins.
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
    ///
    /// In place: the records are sorted through a 4-byte permutation, which is then applied by following its
    /// cycles, and the winners are compacted towards the front. Peak memory is the records plus the permutation
    /// — not a second copy of the table (at a million contents the copy was 60 MiB on top of a 60 MiB table,
    /// the highest point of a whole `ferry restore`; issue 16).
    ///
    /// `mutating`, not `consuming`: the records are swapped out of `self`, which leaves the builder empty and
    /// this function the buffer's only owner. (A `consuming` call on a builder captured by a closure — the
    /// loader's task group — copies the value, the capture box keeps a second reference to the records, and
    /// the sort's first write then copied all 45 MiB of them: that was the 1M restore's peak, not the plaintext.)
    /// - Parameter watermark: deletion watermark in Unix seconds (`Int64.min` for none).
    mutating func build(watermark: Int64) -> IndexTable {
        let n = count
        let stride = self.stride
        let keySize = self.keySize
        var order = [Int32](unsafeUninitializedCapacity: n) { buf, initialized in
            for i in 0..<n { buf[i] = Int32(i) }
            initialized = n
        }
        let packs = self.packs
        var records: [UInt8] = []
        swap(&records, &self.records)  // the only reference left: sorted in place, no copy
        let formats = self.formats
        self.packs = []
        self.formats = []
        packNumbers = [:]
        formatNumbers = [:]
        var kept = 0
        records.withUnsafeMutableBytes { buf in
            let base = UnsafeRawBufferPointer(buf)
            // Equal keys keep their load order (the tie-break `a < b`), as the winner rule below expects.
            order.sort { a, b in
                let c = IndexTable.compare(base, Int(a) * stride,
                                           UnsafeRawBufferPointer(rebasing: base[(Int(b) * stride)...]), keySize)
                return c < 0 || (c == 0 && a < b)
            }
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
            func field<T: FixedWidthInteger>(_ record: Int, _ at: Int, _: T.Type) -> T {
                T(littleEndian: base.loadUnaligned(fromByteOffset: record * stride + keySize + at, as: T.self))
            }
            func deleted(_ r: Int) -> Bool { base[r * stride + keySize + 26] & 1 != 0 }
            /// Whether `a` beats `b` under §7.3.
            func wins(_ a: Int, over b: Int) -> Bool {
                let ta = field(a, 0, Int64.self)
                let tb = field(b, 0, Int64.self)
                if ta != tb { return ta > tb }
                let da = deleted(a)
                let db = deleted(b)
                if da != db { return !da }
                let pa = packs[Int(field(a, 8, UInt32.self))]
                let pb = packs[Int(field(b, 8, UInt32.self))]
                return pb.utf8.lexicographicallyPrecedes(pa.utf8)
            }
            // Winners move to the front; `kept` never passes the group being read.
            var i = 0
            while i < n {
                var winner = i
                var j = i + 1
                while j < n,
                      IndexTable.compare(base, j * stride, UnsafeRawBufferPointer(rebasing: base[(i * stride)...]),
                                         keySize) == 0 {
                    if wins(j, over: winner) { winner = j }
                    j += 1
                }
                i = j
                if deleted(winner) && field(winner, 0, Int64.self) <= watermark { continue }
                if winner != kept { slot(kept).copyMemory(from: UnsafeRawBufferPointer(slot(winner))) }
                kept += 1
            }
        }
        records.removeLast((n - kept) * stride)
        return IndexTable(keySize: keySize, records: records, packs: packs, formats: formats)
    }
}
