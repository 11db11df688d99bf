import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes objects — byte streams split into contents, with an indirect list when there is more than one chunk
/// (kopia-format.md §9; kopia/kopia `repo/object/object_writer.go`, `indirect.go`).
///
/// One chunk ⇒ the object ID is the content ID. Several ⇒ the list
/// `{"stream":"kopia:indirect","entries":[{"l":…,"o":…},{"s":…,"l":…,"o":…},…]}` (`s` omitted when 0) is itself
/// written as an object — prefix `x` for file data, the object's own prefix otherwise (`Ik…` directories),
/// metadata compression — and the object ID is `I` + that object's ID (so a huge list becomes `II…`). Chunks are cut by the repository's splitter (``Splitter``), exactly as Kopia cuts them.
///
/// Stateless apart from the shared ``ContentWriter``; safe to use from many tasks at once.
public struct ObjectWriter: Sendable {
    public let contents: ContentWriter
    public let splitter: SplitterAlgorithm
    /// Compression for metadata objects (directory listings `k`, indirect lists `x`); Kopia's default policy.
    public let metadataCompression: CompressionAlgorithm?

    public init(contents: ContentWriter, splitter: SplitterAlgorithm, metadataCompression: CompressionAlgorithm?) {
        self.contents = contents
        self.splitter = splitter
        self.metadataCompression = metadataCompression
    }

    /// Writes `data` as one object.
    /// - Parameter prefix: the content prefix (0 file data, `k` directory, `x` list, `m` is for manifests — use
    ///   ``ContentWriter`` directly for those).
    public func write(_ data: [UInt8], prefix: UInt8 = 0, compression: CompressionAlgorithm? = nil) async throws
        -> ObjectID
    {
        var splitter = self.splitter.makeSplitter()
        var chunks: [ContentID] = []
        var lengths: [Int] = []
        var start = 0
        while true {
            let cut: Int? = data.withUnsafeBytes { raw in
                splitter.nextSplitPoint(UnsafeRawBufferPointer(rebasing: raw[start...]))
            }
            let end = cut.map { start + $0 } ?? data.count
            if end > start || chunks.isEmpty {
                chunks.append(try await contents.write(Array(data[start..<end]), prefix: prefix, compression: compression))
                lengths.append(end - start)
            }
            start = end
            if cut == nil || start >= data.count { break }
        }
        return try await finish(chunks: chunks, lengths: lengths, prefix: prefix)
    }

    /// Streams a regular file into an object, reading it in pieces (never the whole file in memory).
    /// - Returns: the object ID and the number of bytes read.
    /// - Throws: `.ioFailure` naming the path when the file cannot be opened or read.
    public func writeFile(at path: String, compression: CompressionAlgorithm?) async throws -> (ObjectID, Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            throw KopiaError(.ioFailure, "cannot open file: \(String(cString: strerror(errno)))", path: path)
        }
        defer { close(fd) }
        var splitter = self.splitter.makeSplitter()
        // Size the buffers by the file: thousands of small files must not each map and fault in megabytes.
        var st = stat()
        let expected = fstat(fd, &st) == 0 ? max(Int(st.st_size), 0) : 1 << 20
        let bufferSize = min(1 << 20, expected + 1)
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(min(splitter.maxSegmentSize, expected + 1))
        var chunks: [ContentID] = []
        var lengths: [Int] = []
        var total: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, bufferSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw KopiaError(.ioFailure, "cannot read file: \(String(cString: strerror(errno)))", path: path)
            }
            if n == 0 { break }
            total += Int64(n)
            var offset = 0
            while offset < n {
                let cut: Int? = buffer.withUnsafeBytes { raw in
                    splitter.nextSplitPoint(UnsafeRawBufferPointer(rebasing: raw[offset..<n]))
                }
                let end = cut.map { offset + $0 } ?? n
                chunk.append(contentsOf: buffer[offset..<end])
                offset = end
                if cut != nil {
                    chunks.append(try await contents.write(chunk, prefix: 0, compression: compression))
                    lengths.append(chunk.count)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        }
        if !chunk.isEmpty || chunks.isEmpty {
            chunks.append(try await contents.write(chunk, prefix: 0, compression: compression))
            lengths.append(chunk.count)
        }
        return (try await finish(chunks: chunks, lengths: lengths, prefix: 0), total)
    }

    private func finish(chunks: [ContentID], lengths: [Int], prefix: UInt8) async throws -> ObjectID {
        if chunks.count == 1, let only = chunks.first { return ObjectID(contentID: only) }
        var json = #"{"stream":"kopia:indirect","entries":["#
        var start = 0
        for (i, id) in chunks.enumerated() {
            if i > 0 { json += "," }
            json += "{"
            if start != 0 { json += #""s":\#(start),"# }
            json += #""l":\#(lengths[i]),"o":"\#(id)"}"#
            start += lengths[i]
        }
        json += "]}\n"  // Go's json.Encoder ends every document with a newline; byte-equal lists deduplicate
        // Kopia keeps the object's own prefix for its list (`Ik…` for a big directory) and uses `x` for file data.
        let listPrefix = prefix == 0 ? UInt8(ascii: "x") : prefix
        let list = try await write(Array(json.utf8), prefix: listPrefix, compression: metadataCompression)
        return ObjectID(contentID: list.contentID, indirection: list.indirection + 1)
    }
}
