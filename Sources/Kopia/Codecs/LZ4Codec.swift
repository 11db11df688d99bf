internal import CLZ4

/// LZ4 frame decoding through liblz4 (Kopia's removed `lz4` compressor; kept so old repositories read).
enum LZ4Codec {
    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KopiaError) -> [UInt8] {
        guard input.count > 0 else { throw KopiaError(.corruptContent, "lz4 stream is empty") }
        var dctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&dctx, clz4_get_version())) == 0, let dctx else {
            throw KopiaError(.invalidArgument, "LZ4F_createDecompressionContext failed")
        }
        defer { LZ4F_freeDecompressionContext(dctx) }
        var out = OutputBuffer(expected: input.count * 4, limit: limit)
        var position = 0
        var hint = 1
        while position < input.count {
            try out.reserveSome(64 << 10)
            var consumed = input.count - position
            var produced = 0
            out.writeFree { free in
                produced = free.count
                hint = LZ4F_decompress(dctx, free.baseAddress, &produced, input.baseAddress.map { $0 + position }, &consumed, nil)
                return LZ4F_isError(hint) != 0 ? 0 : produced
            }
            if LZ4F_isError(hint) != 0 {
                throw KopiaError(.corruptContent, "lz4 stream is corrupt: \(String(cString: LZ4F_getErrorName(hint)))")
            }
            position += consumed
            if consumed == 0 && produced == 0 { throw KopiaError(.corruptContent, "lz4 stream makes no progress") }
        }
        // Drain output still buffered inside the context.
        while hint != 0 {
            try out.reserveSome(64 << 10)
            var consumed = 0
            var produced = 0
            out.writeFree { free in
                produced = free.count
                hint = LZ4F_decompress(dctx, free.baseAddress, &produced, nil, &consumed, nil)
                return LZ4F_isError(hint) != 0 ? 0 : produced
            }
            if LZ4F_isError(hint) != 0 {
                throw KopiaError(.corruptContent, "lz4 stream is corrupt: \(String(cString: LZ4F_getErrorName(hint)))")
            }
            if produced == 0 && hint != 0 { throw KopiaError(.corruptContent, "lz4 stream is truncated") }
        }
        return try out.finish()
    }
}
