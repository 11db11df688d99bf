/// Positioned writes of decoded chunks, optionally leaving zero runs as holes (kopia-format.md §12.2
/// `--write-sparse-files`). The file was already sized with `ftruncate`, so a skipped block reads back as zeros.
///
/// With `sparse`, the chunk is cut at 4 KiB boundaries of the *file* offset; blocks that are entirely zero are
/// skipped and the rest is written with as few `pwrite`s as the zero runs allow. Pure apart from the writes.
struct SparseWriter: Sendable {
    static let blockSize = 4096
    let sparse: Bool

    /// Writes `bytes` at `offset` of `fd`; returns the bytes actually written (holes excluded).
    @discardableResult
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(KopiaError) -> Int {
        guard sparse, bytes.count > 0 else {
            try PosixFiles.write(fd, bytes, at: offset, path: path)
            return bytes.count
        }
        var written = 0
        var runStart: Int? = nil
        var position = 0
        while position < bytes.count {
            // Block boundaries follow the file offset so holes line up with file-system blocks.
            let misalignment = Int((offset + Int64(position)) % Int64(Self.blockSize))
            let end = min(bytes.count, position + Self.blockSize - misalignment)
            let zero = Self.isZero(UnsafeRawBufferPointer(rebasing: bytes[position..<end]))
            if zero, let start = runStart {
                try PosixFiles.write(fd, UnsafeRawBufferPointer(rebasing: bytes[start..<position]),
                                     at: offset + Int64(start), path: path)
                written += position - start
                runStart = nil
            } else if !zero, runStart == nil {
                runStart = position
            }
            position = end
        }
        if let start = runStart {
            try PosixFiles.write(fd, UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]),
                                 at: offset + Int64(start), path: path)
            written += bytes.count - start
        }
        return written
    }

    /// Whether every byte is zero (eight bytes at a time).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 32 <= n {
            let a = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
            let c = bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)
            let d = bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            if (a | b | c | d) != 0 { return false }
            i += 32
        }
        while i < n {
            if bytes[i] != 0 { return false }
            i += 1
        }
        return true
    }
}
