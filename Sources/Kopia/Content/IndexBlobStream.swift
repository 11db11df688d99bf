/// Reads, decrypts and decodes one large index blob piece by piece (kopia-format.md §4.3, §7): ranged reads of
/// `pieceSize` bytes (the next one in flight while the current one is decrypted in place and decoded), so the
/// blob is never in memory whole — neither sealed nor as plaintext (issue 16).
///
/// The AEAD tag is checked after the last piece. Everything decoded before that is provisional; on any error the
/// caller's builder is thrown away with the whole load (it is local to one `IndexLoader.loadOnce`). A blob whose
/// plaintext does not decode but whose tag fails too is reported as failing authentication, like the whole-blob
/// path reports it.
enum IndexBlobStream {
    /// The sizes the loader uses: blobs of at least `threshold` stored bytes stream in `pieceSize` reads.
    struct Options: Sendable {
        var threshold: Int64 = 1 << 20
        var pieceSize: Int = 1 << 20

        static let `default` = Options()
    }

    static func load(_ blob: BlobMetadata, storage: any BlobStorage, format: RepositoryFormat, pieceSize: Int,
                     into builder: inout IndexTableBuilder) async throws {
        let id = blob.id
        let length = Int(blob.length)
        let nonceSize = AEAD.nonceSize
        let tagSize = AEAD.tagSize
        guard length >= nonceSize + tagSize else {
            throw KopiaError(.corruptBlob, "blob fails authentication; it is damaged or truncated", blobID: id)
        }
        let iv: [UInt8]
        do {
            iv = try ContentCipher.blobIV(forBlobID: id)
        } catch {
            throw KopiaError(.corruptBlob, "blob name carries no decryption IV", blobID: id, cause: error)
        }
        let piece = max(pieceSize, 64)
        func read(_ offset: Int) -> Task<[UInt8], any Error> {
            let count = min(piece, length - offset)
            return Task {
                do {
                    let bytes = try await storage.read(id, offset: Int64(offset), length: count)
                    guard bytes.count == count else {
                        throw KopiaError(.corruptBlob, "blob is shorter than its listed \(length) bytes", blobID: id)
                    }
                    return bytes
                } catch let error as KopiaError where error.code == .truncatedData {
                    throw KopiaError(.corruptBlob, "blob is shorter than its listed \(length) bytes", blobID: id,
                                     cause: error)
                } catch let error as KopiaError {
                    throw error.adding(blobID: id)
                }
            }
        }
        var decoder = IndexBlobDecoder(blobID: id, totalLength: length - nonceSize - tagSize)
        var decodeError: (any Error)?
        var nonce: [UInt8] = []
        var tag: [UInt8] = []
        var opener: AEADOpener?
        var next: Task<[UInt8], any Error>? = read(0)
        defer { next?.cancel() }
        var offset = 0
        while offset < length, let current = next {
            var bytes = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
            let end = offset + bytes.count
            next = end < length ? read(end) : nil
            // This piece's share of nonce ‖ ciphertext ‖ tag, in absolute offsets.
            if offset < nonceSize {
                nonce += bytes[0..<min(nonceSize, end) - offset]
            }
            if opener == nil && nonce.count == nonceSize {
                opener = try format.cipher.opener(iv: iv, nonce: nonce)
            }
            let cipherStart = max(offset, nonceSize)
            let cipherEnd = min(end, length - tagSize)
            if cipherStart < cipherEnd, let opener {
                try bytes.withUnsafeMutableBytes { buf in
                    let text = UnsafeMutableRawBufferPointer(rebasing: buf[cipherStart - offset..<cipherEnd - offset])
                    try opener.update(text)
                    if decodeError == nil {
                        do { try decoder.feed(UnsafeRawBufferPointer(text), into: &builder) } catch { decodeError = error }
                    }
                }
            }
            if end > length - tagSize {
                tag += bytes[max(offset, length - tagSize) - offset..<bytes.count]
            }
            offset = end
        }
        do {
            guard let opener else { throw KopiaError(.corruptContent, "no nonce") }
            try opener.finish(tag: tag)
        } catch {
            throw KopiaError(.corruptBlob, "blob fails authentication; it is damaged or truncated", blobID: id, cause: error)
        }
        if let decodeError { throw decodeError }
        try decoder.finish(into: &builder)
    }
}
