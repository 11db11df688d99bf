/// A streaming reader over one object: its total `length` and flat `chunks` are known when it is opened; bytes are
/// fetched one chunk at a time as they are read.
///
/// Value type; one reader serves one task (copy it to read the same object elsewhere). `chunks()` gives the
/// bytes as an `AsyncSequence` of chunks in order; `read(maxLength:)` and `seek(to:)` give a file-like cursor;
/// `readChunk(at:)` reads any chunk independently (for parallel restore). Every chunk is checked to decode to the
/// length its list entry states.
public struct ObjectReader: Sendable {
    public let objectID: ObjectID
    public let chunks: [ObjectChunk]
    /// Total length in bytes.
    public let length: Int64
    /// The cursor of `read(maxLength:)`.
    public private(set) var position: Int64 = 0

    private let store: ObjectStore
    private var buffered: (index: Int, bytes: [UInt8])?

    init(objectID: ObjectID, chunks: [ObjectChunk], store: ObjectStore, buffered: (Int, [UInt8])?) {
        self.objectID = objectID
        self.chunks = chunks
        self.length = chunks.last?.end ?? 0
        self.store = store
        self.buffered = buffered
    }

    /// The decoded bytes of chunk `index`.
    /// - Throws: `KopiaError` `.invalidArgument` for an index out of range; content errors as `ObjectStore.open`.
    public func readChunk(at index: Int) async throws -> [UInt8] {
        guard chunks.indices.contains(index) else {
            throw KopiaError(.invalidArgument, "chunk \(index) does not exist (object has \(chunks.count))",
                             objectID: objectID.description)
        }
        if let buffered, buffered.index == index { return buffered.bytes }
        return try await store.readChunk(chunks[index], objectID: objectID)
    }

    /// Moves the cursor. Positions past the end are clamped to `length` (reads then return no bytes).
    /// - Throws: `KopiaError` `.invalidArgument` for a negative offset.
    public mutating func seek(to offset: Int64) throws(KopiaError) {
        guard offset >= 0 else {
            throw KopiaError(.invalidArgument, "cannot seek to negative offset \(offset)", objectID: objectID.description)
        }
        position = min(offset, length)
    }

    /// Reads up to `maxLength` bytes at the cursor and advances it; returns an empty array at the end.
    /// Never returns bytes from more than one chunk, so a call costs at most one content read.
    public mutating func read(maxLength: Int) async throws -> [UInt8] {
        guard maxLength > 0, position < length, let index = chunkIndex(containing: position) else { return [] }
        let chunk = chunks[index]
        let bytes: [UInt8]
        if let buffered, buffered.index == index {
            bytes = buffered.bytes
        } else {
            bytes = try await store.readChunk(chunk, objectID: objectID)
            buffered = (index, bytes)
        }
        let from = Int(position - chunk.start)
        guard from < bytes.count else { return [] }
        let to = from + min(maxLength, bytes.count - from)
        position += Int64(to - from)
        return Array(bytes[from..<to])
    }

    /// Reads from the cursor to the end.
    public mutating func readAll() async throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(clamping: length - position))
        while position < length {
            let part = try await read(maxLength: Int.max)
            if part.isEmpty { break }
            out.append(contentsOf: part)
        }
        return out
    }

    /// The object's bytes as consecutive chunks, from the start (the cursor is not used).
    public func chunkSequence() -> ObjectChunkSequence {
        ObjectChunkSequence(reader: self)
    }

    /// Binary search for the chunk whose range holds `offset`.
    func chunkIndex(containing offset: Int64) -> Int? {
        var lo = 0
        var hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if chunks[mid].end <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo < chunks.count && chunks[lo].start <= offset ? lo : nil
    }
}

/// The decoded chunks of an object, in order (`ObjectReader.chunkSequence()`).
public struct ObjectChunkSequence: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let reader: ObjectReader

    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: ObjectReader
        var next = 0

        public mutating func next() async throws -> [UInt8]? {
            guard next < reader.chunks.count else { return nil }
            defer { next += 1 }
            return try await reader.readChunk(at: next)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: reader)
    }
}
