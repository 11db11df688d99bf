/// Encoding and decoding of `REED-SOLOMON-CRC32` (layout in `ErrorCorrection`; kopia/kopia
/// `repo/ecc/ecc_rs_crc.go`, `Encrypt` and `Decrypt`).
extension ErrorCorrection {
    private static var crcBytes: Int { 4 }

    /// Adds error correction to `data` (an encrypted unit).
    /// - Throws: `.invalidArgument` when `data` is 4 GiB or longer (the stored length is a u32).
    public func encode(_ data: some Collection<UInt8>) throws -> [UInt8] {
        let n = data.count
        guard n <= Int(UInt32.max) - 4 else {
            throw KopiaError(.invalidArgument, "a unit of \(n) bytes is too large for error correction")
        }
        let s = sizes(originalLength: n)
        let dataPerBlock = s.dataShards * s.shardSize
        // The data stream: u32 BE length, the input, zero padding to whole blocks.
        var stream = [UInt8](repeating: 0, count: dataPerBlock * s.blocks)
        for i in 0..<4 { stream[i] = UInt8(truncatingIfNeeded: UInt32(n) >> (24 - 8 * UInt32(i))) }
        stream.replaceSubrange(4..<4 + n, with: data)

        var out: [UInt8] = []
        out.reserveCapacity(encodedLength(n))
        let rs = coder(s)
        var parity = [UInt8](repeating: 0, count: s.parityShards * s.shardSize)
        stream.withUnsafeBytes { stream in
            for b in 0..<s.blocks {
                let block = UnsafeRawBufferPointer(rebasing: stream[b * dataPerBlock..<(b + 1) * dataPerBlock])
                parity.withUnsafeMutableBytes { rs.encode(data: block, shardSize: s.shardSize, parity: $0) }
                parity.withUnsafeBytes { parity in
                    for p in 0..<s.parityShards {
                        let shard = UnsafeRawBufferPointer(rebasing: parity[p * s.shardSize..<(p + 1) * s.shardSize])
                        out.appendCRC(Self.crc32(shard))
                        out.append(contentsOf: shard)
                    }
                }
            }
            let storedStream = s.storePadding ? stream.count : 4 + n
            var pos = 0
            while pos < storedStream {
                let shard = UnsafeRawBufferPointer(rebasing: stream[pos..<pos + s.shardSize])
                out.appendCRC(Self.crc32(shard))
                out.append(contentsOf: shard.prefix(min(storedStream - pos, s.shardSize)))
                pos += s.shardSize
            }
        }
        return out
    }

    /// Removes error correction from `stored`, repairing up to Pa damaged shards per block from parity.
    ///
    /// Fast path: when every stored data shard's CRC matches, the data shards are concatenated and the parity is
    /// not read. A short input is zero-filled as Kopia does, so a small truncation inside the last shards is
    /// repaired too. The result is not authenticated here: the AEAD open that follows is the integrity check.
    /// - Throws: `.corruptContent` when more shards of a block are damaged than it has parity shards, or the
    ///   recorded length does not fit the shards.
    public func decode(_ stored: some Collection<UInt8>) throws -> [UInt8] {
        let storedLength = stored.count
        let s = sizes(storedLength: storedLength)
        let c = Self.crcBytes
        let unit = c + s.shardSize
        let parityBytes = s.parityShards * unit * s.blocks
        let padded = (s.dataShards + s.parityShards) * unit * s.blocks
        var input = [UInt8](repeating: 0, count: max(padded, storedLength))
        input.replaceSubrange(0..<storedLength, with: stored)
        // Data shards starting at or after this offset (within the data region) were not stored: all zeros.
        let paddingStart = storedLength - parityBytes

        var stream = [UInt8](repeating: 0, count: s.dataShards * s.shardSize * s.blocks)
        var damagedBlocks: [Int] = []
        input.withUnsafeBytes { input in
            stream.withUnsafeMutableBytes { stream in
                for b in 0..<s.blocks {
                    var damaged = false
                    for i in 0..<s.dataShards {
                        let k = b * s.dataShards + i
                        let at = parityBytes + k * unit
                        let shard = UnsafeRawBufferPointer(rebasing: input[at + c..<at + unit])
                        UnsafeMutableRawBufferPointer(rebasing: stream[k * s.shardSize..<(k + 1) * s.shardSize])
                            .copyMemory(from: shard)
                        if k * unit < paddingStart, Self.readCRC(input, at) != Self.crc32(shard) { damaged = true }
                    }
                    if damaged { damagedBlocks.append(b) }
                }
            }
        }
        for b in damagedBlocks { try repair(block: b, sizes: s, input: input, paddingStart: paddingStart, stream: &stream) }

        guard stream.count >= 4 else { throw KopiaError(.corruptContent, "error-corrected unit is too short") }
        let n = Int(stream[0]) << 24 | Int(stream[1]) << 16 | Int(stream[2]) << 8 | Int(stream[3])
        guard n <= stream.count - 4 else {
            throw KopiaError(.corruptContent,
                             "error-corrected unit records \(n) bytes but its shards hold \(stream.count - 4); it is truncated or damaged")
        }
        return Array(stream[4..<4 + n])
    }

    /// Reconstructs the data shards of block `b` whose CRC fails, from its intact data and parity shards.
    private func repair(block b: Int, sizes s: Sizes, input: [UInt8], paddingStart: Int, stream: inout [UInt8]) throws {
        let c = Self.crcBytes
        let unit = c + s.shardSize
        let parityBytes = s.parityShards * unit * s.blocks
        var shards: [[UInt8]] = []
        var intact: [Bool] = []
        shards.reserveCapacity(s.dataShards + s.parityShards)
        input.withUnsafeBytes { input in
            for i in 0..<s.dataShards {
                let k = b * s.dataShards + i
                let at = parityBytes + k * unit
                let shard = UnsafeRawBufferPointer(rebasing: input[at + c..<at + unit])
                shards.append(Array(shard))
                intact.append(k * unit >= paddingStart || Self.readCRC(input, at) == Self.crc32(shard))
            }
            for p in 0..<s.parityShards {
                let at = (b * s.parityShards + p) * unit
                let shard = UnsafeRawBufferPointer(rebasing: input[at + c..<at + unit])
                shards.append(Array(shard))
                intact.append(Self.readCRC(input, at) == Self.crc32(shard))
            }
        }
        let rs = coder(s)
        do {
            try rs.reconstructData(&shards, intact: intact)
        } catch {
            throw KopiaError(.corruptContent,
                             "error correction cannot repair block \(b + 1) of \(s.blocks): \(intact.filter { !$0 }.count) of its \(s.dataShards + s.parityShards) shards are damaged and it has \(s.parityShards) parity shards",
                             cause: error)
        }
        for i in 0..<s.dataShards {
            let k = b * s.dataShards + i
            stream.replaceSubrange(k * s.shardSize..<(k + 1) * s.shardSize, with: shards[i])
        }
    }

    private static func readCRC(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

extension [UInt8] {
    fileprivate mutating func appendCRC(_ crc: UInt32) {
        append(UInt8(truncatingIfNeeded: crc >> 24))
        append(UInt8(truncatingIfNeeded: crc >> 16))
        append(UInt8(truncatingIfNeeded: crc >> 8))
        append(UInt8(truncatingIfNeeded: crc))
    }
}
