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
/// Not thread-safe: one builder per index load. Peak memory ≈ 2 × (entries × stride) + a 4-byte permutation.
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

    mutating func reserve(entries: Int) {
        records.reserveCapacity(records.count + entries * stride)
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
    /// - Parameter watermark: deletion watermark in Unix seconds (`Int64.min` for none).
    consuming func build(watermark: Int64) -> IndexTable {
        let n = count
        let stride = self.stride
        let keySize = self.keySize
        var order = [Int32](unsafeUninitializedCapacity: n) { buf, initialized in
            for i in 0..<n { buf[i] = Int32(i) }
            initialized = n
        }
        let packs = self.packs
        var output: [UInt8] = []
        records.withUnsafeBytes { buf in
            order.sort { a, b in
                let c = IndexTable.compare(buf, Int(a) * stride, UnsafeRawBufferPointer(rebasing: buf[(Int(b) * stride)...]), keySize)
                return c < 0 || (c == 0 && a < b)
            }
            func field<T: FixedWidthInteger>(_ record: Int32, _ at: Int, _: T.Type) -> T {
                T(littleEndian: buf.loadUnaligned(fromByteOffset: Int(record) * stride + keySize + at, as: T.self))
            }
            func deleted(_ r: Int32) -> Bool { buf[Int(r) * stride + keySize + 26] & 1 != 0 }
            /// Whether `a` beats `b` under §7.3.
            func wins(_ a: Int32, over b: Int32) -> Bool {
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
            output.reserveCapacity(n * stride)
            var i = 0
            while i < n {
                var winner = order[i]
                var j = i + 1
                while j < n,
                      IndexTable.compare(buf, Int(order[j]) * stride,
                                         UnsafeRawBufferPointer(rebasing: buf[(Int(order[i]) * stride)...]), keySize) == 0 {
                    if wins(order[j], over: winner) { winner = order[j] }
                    j += 1
                }
                i = j
                if deleted(winner) && field(winner, 0, Int64.self) <= watermark { continue }
                let start = Int(winner) * stride
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[start..<start + stride]))
            }
        }
        return IndexTable(keySize: keySize, records: output, packs: packs, formats: formats)
    }
}
