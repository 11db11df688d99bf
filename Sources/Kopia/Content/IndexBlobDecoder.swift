/// Decodes one decrypted index blob handed over in pieces of any size, so that a large blob never has to be in
/// memory whole (issue 16: at a million contents the 34 MB plaintext next to the 45 MiB table was the peak of
/// a whole restore).
///
/// Index v2 (§7.2) streams: entries go into the builder as they arrive, with this blob's pack and format
/// numbers; the pack and format tables follow the entries, so only the bytes after the entries (tables, pack
/// names, random padding) are kept, and `finish` registers them and remaps the blob's records. Index v1 (§7.1,
/// format v1 repositories) is collected whole and decoded at `finish`.
///
/// Until `finish` returns, the records appended are provisional: a caller that fails (or whose AEAD tag does not
/// verify) must discard the builder. Errors name the blob.
struct IndexBlobDecoder {
    let blobID: String
    /// The plaintext's full length, known up front (sealed length − nonce − tag).
    let totalLength: Int
    private var received = 0
    private enum Phase {
        case header
        case v1
        case empty
        case entries(IndexV2.Header)
        case tail(IndexV2.Header)
    }
    private var phase = Phase.header
    /// Header bytes, an entry cut by a piece boundary, or the whole v1 blob.
    private var pending: [UInt8] = []
    private var decoded = 0
    private var firstRecord = 0
    private var tail: [UInt8] = []

    init(blobID: String, totalLength: Int) {
        self.blobID = blobID
        self.totalLength = totalLength
    }

    /// Decodes a whole decrypted blob (v1 or v2, by its first byte).
    static func decode(_ plaintext: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        var decoder = IndexBlobDecoder(blobID: blobID, totalLength: plaintext.count)
        let failure = plaintext.withUnsafeBytes { b -> KopiaError? in
            do throws(KopiaError) { try decoder.feed(b, into: &builder) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        try decoder.finish(into: &builder)
    }

    /// Takes the next piece of plaintext.
    /// - Throws: `.corruptBlob` / `.truncatedData` naming the blob.
    mutating func feed(_ piece: UnsafeRawBufferPointer, into builder: inout IndexTableBuilder) throws(KopiaError) {
        do throws(KopiaError) {
            received += piece.count
            guard received <= totalLength else {
                throw KopiaError(.corruptBlob, "index blob is longer than its stored length \(totalLength)")
            }
            var input = piece[...]
            while !input.isEmpty {
                switch phase {
                case .header:
                    let version = pending.first ?? input[input.startIndex]
                    switch version {
                    case 1:
                        phase = .v1
                    case 2:
                        let take = min(IndexV2.headerSize - pending.count, input.count)
                        pending.append(contentsOf: input.prefix(take))
                        input = input.dropFirst(take)
                        if pending.count == IndexV2.headerSize {
                            try startEntries(into: &builder)
                        }
                    default:
                        throw IndexV2.corrupt("has unknown index version \(version)", blobID)
                    }
                case .v1:
                    if pending.isEmpty { pending.reserveCapacity(totalLength) }
                    pending.append(contentsOf: input)
                    input = input.suffix(0)
                case .empty:
                    input = input.suffix(0)
                case .entries(let header):
                    input = try takeEntries(input, header, into: &builder)
                case .tail:
                    tail.append(contentsOf: input)
                    input = input.suffix(0)
                }
            }
        } catch {
            throw error.adding(blobID: blobID)
        }
    }

    /// Ends the blob: checks it was complete, then registers the tables and remaps (v2) or decodes (v1).
    mutating func finish(into builder: inout IndexTableBuilder) throws(KopiaError) {
        do throws(KopiaError) {
            guard received == totalLength else {
                throw KopiaError(.truncatedData, "index blob ended after \(received) of \(totalLength) bytes")
            }
            switch phase {
            case .header:
                guard !pending.isEmpty else { throw IndexV2.corrupt("is empty", blobID) }
                // A cut header: the parser reports what is missing.
                _ = try IndexV2.Header.parse(pending, totalLength: totalLength, keySize: builder.keySize, blobID: blobID)
                throw IndexV2.corrupt("has an incomplete header", blobID)
            case .v1:
                try IndexV1.decode(pending, blobID: blobID, into: &builder)
                pending = []
            case .empty:
                break
            case .entries:
                throw KopiaError(.truncatedData, "index blob ends inside its entries")
            case .tail(let header):
                let (packs, formats) = try header.readTables(tail, blobID: blobID, into: &builder)
                builder.remap(records: firstRecord..<firstRecord + header.entryCount, packs: packs, formats: formats)
                tail = []
            }
        } catch {
            throw error.adding(blobID: blobID)
        }
    }

    private mutating func startEntries(into builder: inout IndexTableBuilder) throws(KopiaError) {
        let header = try IndexV2.Header.parse(pending, totalLength: totalLength, keySize: builder.keySize,
                                              blobID: blobID)
        pending.removeAll(keepingCapacity: true)
        guard let header else {
            phase = .empty
            return
        }
        // `tablesEnd <= totalLength` bounds the reservation by the blob's real size.
        builder.reserve(entries: header.entryCount)
        firstRecord = builder.count
        phase = .entries(header)
        tail.reserveCapacity(totalLength - header.packTable)
    }

    /// Appends the whole entries in `input` (completing one cut by the previous piece first); returns the rest.
    private mutating func takeEntries(_ input: Slice<UnsafeRawBufferPointer>, _ header: IndexV2.Header,
                                      into builder: inout IndexTableBuilder) throws(KopiaError)
        -> Slice<UnsafeRawBufferPointer>
    {
        let stride = header.stride
        var input = input
        if !pending.isEmpty {
            let take = min(stride - pending.count, input.count)
            pending.append(contentsOf: input.prefix(take))
            input = input.dropFirst(take)
            guard pending.count == stride else { return input }
            let failure = pending.withUnsafeBytes { header.append($0, number: decoded, blobID: blobID, into: &builder) }
            if let failure { throw failure }
            decoded += 1
            pending.removeAll(keepingCapacity: true)
        }
        let whole = min(input.count / stride, header.entryCount - decoded)
        if whole > 0 {
            let base = UnsafeRawBufferPointer(rebasing: input)
            for k in 0..<whole {
                let entry = UnsafeRawBufferPointer(rebasing: base[k * stride..<(k + 1) * stride])
                if let failure = header.append(entry, number: decoded, blobID: blobID, into: &builder) { throw failure }
                decoded += 1
            }
            input = input.dropFirst(whole * stride)
        }
        if decoded == header.entryCount {
            phase = .tail(header)
        } else if !input.isEmpty {
            pending.append(contentsOf: input)
            input = input.suffix(0)
        }
        return input
    }
}
