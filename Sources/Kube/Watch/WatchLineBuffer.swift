/// Splits a watch body into lines (one JSON event each), with a cap on one line.
///
/// Bytes are appended as chunks arrive; consumed lines advance a head index, and the consumed prefix is dropped only
/// once it is at least half of the storage, so splitting costs amortised O(1) per byte however the chunks fall (no
/// O(n²) compaction). A line longer than `maximumLineLength` (without its newline) is refused as soon as it is
/// known to be too long — before the whole of it is buffered. Pure, no I/O; the watch iterator and the fuzz
/// harness use it.
struct WatchLineBuffer {
    let maximumLineLength: Int
    private var storage: [UInt8] = []
    /// Start of the bytes not yet returned.
    private var head = 0
    /// `storage[head..<scanned]` holds no newline.
    private var scanned = 0

    init(maximumLineLength: Int) { self.maximumLineLength = max(1, maximumLineLength) }

    /// Bytes buffered but not yet returned as a line.
    var pendingCount: Int { storage.count - head }

    mutating func append(_ chunk: [UInt8]) {
        if head > 0, head * 2 >= storage.count {
            storage.removeFirst(head)
            scanned -= head
            head = 0
        }
        storage += chunk
    }

    /// The next complete line (without `\n`), or nil when more bytes are needed.
    /// - Throws: `KubeError` `.decoding` when the pending line exceeds the cap.
    mutating func nextLine() throws(KubeError) -> ArraySlice<UInt8>? {
        if let newline = storage[scanned...].firstIndex(of: 10) {
            let line = storage[head..<newline]
            head = newline + 1
            scanned = head
            guard line.count <= maximumLineLength else { throw tooLong(line.count) }
            return line
        }
        scanned = storage.count
        guard pendingCount <= maximumLineLength else { throw tooLong(pendingCount) }
        return nil
    }

    /// At end of stream: the unterminated last line, if any; the buffer is empty afterwards.
    mutating func finish() -> ArraySlice<UInt8>? {
        let rest = storage[head...]
        storage = []
        head = 0
        scanned = 0
        return rest.isEmpty ? nil : rest
    }

    private func tooLong(_ count: Int) -> KubeError {
        KubeError(.decoding, "watch event line of at least \(count) bytes exceeds the \(maximumLineLength)-byte limit")
    }
}
