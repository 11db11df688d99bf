/// Opens objects on top of contents (kopia-format.md §9; kopia `repo/object/object_manager.go`,
/// `object_reader.go`). Sees contents only through `ContentReading`.
///
/// Value type, `Sendable`; every method may run concurrently with others.
public struct ObjectStore: Sendable {
    public let contents: any ContentReading

    public init(contents: any ContentReading) {
        self.contents = contents
    }

    /// Opens an object for reading: resolves every level of indirection into a flat chunk list (reading the list
    /// objects, not the data), so the total length is known at once. A direct object's one content is read here
    /// and kept in the reader's buffer.
    /// - Throws: `KopiaError` `.contentNotFound`, `.corruptContent` (bad chunk list, non-contiguous chunks, a
    ///   nested object whose length differs from its entry), `.blobNotFound`, each with the object ID set.
    public func open(_ id: ObjectID) async throws -> ObjectReader {
        do {
            if id.indirection == 0 {
                let bytes = try await decodedContent(id.contentID, compressed: id.isCompressed)
                let chunk = ObjectChunk(start: 0, length: Int64(bytes.count), contentID: id.contentID,
                                        isCompressed: id.isCompressed)
                return ObjectReader(objectID: id, chunks: [chunk], store: self, buffered: (0, bytes))
            }
            let chunks = try await flatten(id, depth: 0)
            return ObjectReader(objectID: id, chunks: chunks, store: self, buffered: nil)
        } catch let error as KopiaError {
            throw error.adding(objectID: id.description)
        }
    }

    /// Reads a whole object into memory (directories, chunk lists, symlink targets).
    /// - Parameter maximumLength: refuse objects longer than this (a damaged length must not exhaust memory).
    /// - Throws: as `open(_:)`, and `.corruptContent` when the object is longer than `maximumLength`.
    public func read(_ id: ObjectID, maximumLength: Int64 = 256 << 20) async throws -> [UInt8] {
        var reader = try await open(id)
        guard reader.length <= maximumLength else {
            throw KopiaError(.corruptContent,
                             "object is \(reader.length) bytes, more than the \(maximumLength) bytes expected here",
                             objectID: id.description)
        }
        return try await reader.readAll()
    }

    /// The plaintext of a leaf content, decompressed when the object ID says `Z`.
    func decodedContent(_ id: ContentID, compressed: Bool, expectedLength: Int64? = nil) async throws -> [UInt8] {
        let bytes = try await contents.content(id)
        guard compressed else { return bytes }
        return try ObjectDecompression.decompress(bytes, contentID: id, expectedLength: expectedLength)
    }

    /// Reads one chunk and checks that it decodes to exactly the length its list entry states.
    func readChunk(_ chunk: ObjectChunk, objectID: ObjectID) async throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try await decodedContent(chunk.contentID, compressed: chunk.isCompressed,
                                             expectedLength: chunk.length)
        } catch let error as KopiaError {
            throw error.adding(contentID: chunk.contentID.description, objectID: objectID.description)
        }
        guard Int64(bytes.count) == chunk.length else {
            throw KopiaError(.corruptContent,
                             "chunk at offset \(chunk.start) decodes to \(bytes.count) bytes, its list says \(chunk.length)",
                             contentID: chunk.contentID.description, objectID: objectID.description)
        }
        return bytes
    }

    private func flatten(_ id: ObjectID, depth: Int) async throws -> [ObjectChunk] {
        guard let listID = id.listObject else {
            // A direct object inside a list: its length is checked when the chunk is read.
            return []
        }
        guard depth <= ObjectID.maximumIndirection else {
            throw KopiaError(.corruptContent, "indirect objects nest more than \(ObjectID.maximumIndirection) levels deep",
                             objectID: id.description)
        }
        let listBytes = try await read(listID, maximumLength: 64 << 20)
        let entries = try IndirectObjectList.parse(listBytes, objectID: id)
        var chunks: [ObjectChunk] = []
        chunks.reserveCapacity(entries.count)
        for entry in entries {
            if entry.object.indirection == 0 {
                chunks.append(ObjectChunk(start: entry.start, length: entry.length,
                                          contentID: entry.object.contentID, isCompressed: entry.object.isCompressed))
                continue
            }
            let inner = try await flatten(entry.object, depth: depth + 1)
            let innerLength = inner.last?.end ?? 0
            guard innerLength == entry.length else {
                throw KopiaError(.corruptContent,
                                 "nested object \(entry.object) is \(innerLength) bytes, its entry says \(entry.length)",
                                 objectID: id.description)
            }
            for c in inner {
                chunks.append(ObjectChunk(start: entry.start + c.start, length: c.length, contentID: c.contentID,
                                          isCompressed: c.isCompressed))
            }
        }
        return chunks
    }
}
