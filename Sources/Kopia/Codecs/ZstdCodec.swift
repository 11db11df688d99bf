internal import CZstd
import Synchronization

/// A `ZSTD_DCtx` owned by Swift; freed in `deinit`. Pooled, because creating one and growing its window
/// buffer costs more than decoding a small content.
///
/// `@unchecked Sendable`: a context is used by one call at a time — it is taken out of the pool, used,
/// and put back.
final class ZstdDecompressionContext: @unchecked Sendable {
    let raw: OpaquePointer

    init() throws(KopiaError) {
        guard let raw = ZSTD_createDCtx() else { throw KopiaError(.invalidArgument, "ZSTD_createDCtx failed") }
        self.raw = raw
    }

    deinit { ZSTD_freeDCtx(raw) }
}

/// Zstandard through libzstd: streaming decode (frame content size may be absent; concatenated and
/// skippable frames are accepted) and one-shot encode with a content checksum, as Kopia's encoder writes.
enum ZstdCodec {
    private static let pool = Mutex<[ZstdDecompressionContext]>([])
    private static let poolLimit = 8

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KopiaError) -> [UInt8] {
        guard input.count > 0 else { throw KopiaError(.corruptContent, "zstd stream is empty") }
        let pooled = pool.withLock { $0.popLast() }
        let ctx: ZstdDecompressionContext
        if let pooled { ctx = pooled } else { ctx = try ZstdDecompressionContext() }
        defer {
            ZSTD_DCtx_reset(ctx.raw, ZSTD_reset_session_only)
            pool.withLock { if $0.count < poolLimit { $0.append(ctx) } }
        }
        ZSTD_DCtx_reset(ctx.raw, ZSTD_reset_session_only)
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        var expected = input.count * 4
        if declared != czstd_contentsize_unknown(), declared != czstd_contentsize_error(), declared < UInt64(limit) {
            expected = Int(declared) + 1   // +1: lets the loop see the frame end without growing
        }
        var out = OutputBuffer(expected: max(expected, 1024), limit: limit)
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var lastHint = 1
        while true {
            try out.reserveSome(min(max(out.count, 64 << 10), 1 << 20))
            let inBefore = inBuf.pos
            var rc = 0
            out.writeFree { free in
                var outBuf = ZSTD_outBuffer(dst: free.baseAddress, size: free.count, pos: 0)
                rc = ZSTD_decompressStream(ctx.raw, &outBuf, &inBuf)
                return outBuf.pos
            }
            if ZSTD_isError(rc) != 0 {
                let name = String(cString: ZSTD_getErrorName(rc))
                throw KopiaError(.corruptContent, "zstd stream is corrupt: \(name)")
            }
            lastHint = rc
            if inBuf.pos == inBuf.size {
                if lastHint == 0 { return try out.finish() }
                // Input exhausted mid-frame: a full output buffer may still hold pending data; otherwise truncated.
                if out.freeCount > 0 { throw KopiaError(.corruptContent, "zstd stream is truncated") }
            } else if inBuf.pos == inBefore && out.freeCount > 0 {
                throw KopiaError(.corruptContent, "zstd stream makes no progress")
            }
        }
    }

    /// One-shot compression at a libzstd level with the content checksum on.
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws(KopiaError) -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else { throw KopiaError(.invalidArgument, "ZSTD_createCCtx failed") }
        defer { ZSTD_freeCCtx(cctx) }
        guard ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) == 0,
              ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) == 0 else {
            throw KopiaError(.invalidArgument, "zstd level \(level) is not accepted")
        }
        let bound = ZSTD_compressBound(input.count)
        var rc = 0
        let result = [UInt8](unsafeUninitializedCapacity: bound) { buf, initialized in
            rc = ZSTD_compress2(cctx, buf.baseAddress, bound, input.baseAddress, input.count)
            initialized = ZSTD_isError(rc) != 0 ? 0 : rc
        }
        guard ZSTD_isError(rc) == 0 else {
            throw KopiaError(.invalidArgument, "zstd compression failed: \(String(cString: ZSTD_getErrorName(rc)))")
        }
        return result
    }
}
