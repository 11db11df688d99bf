internal import CZlib

/// gzip (RFC 1952, multi-member) and raw DEFLATE (RFC 1951) through zlib. Each call owns its `z_stream`
/// and ends it before returning.
enum ZlibCodec {
    enum Framing {
        case gzip, raw
        var windowBits: Int32 { self == .gzip ? 16 + 15 : -15 }
    }

    /// Inflates `input`. gzip input may hold several members (pgzip, concatenated gzip); they are
    /// decoded in order, as Go's `gzip.Reader` does. Bytes after a raw DEFLATE stream's final block are
    /// ignored.
    static func inflate(_ input: UnsafeRawBufferPointer, framing: Framing, limit: Int) throws(KopiaError) -> [UInt8] {
        guard input.count > 0 else { throw KopiaError(.corruptContent, "\(framing) stream is empty") }
        guard input.count < Int(UInt32.max) else {
            throw KopiaError(.invalidArgument, "\(framing) input over 4 GiB is not supported")
        }
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, framing.windowBits) == Z_OK else {
            throw KopiaError(.invalidArgument, "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: UInt8.self).baseAddress)
        stream.avail_in = UInt32(input.count)
        var out = OutputBuffer(expected: max(input.count * 3, 4096), limit: limit)
        while true {
            try out.reserveSome(64 << 10)
            var rc: Int32 = Z_OK
            out.writeFree { free in
                let chunk = min(free.count, Int(UInt32.max))
                stream.next_out = free.bindMemory(to: UInt8.self).baseAddress
                stream.avail_out = UInt32(chunk)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                return chunk - Int(stream.avail_out)
            }
            switch rc {
            case Z_STREAM_END:
                if framing == .gzip && stream.avail_in > 0 {
                    guard inflateReset(&stream) == Z_OK else { throw KopiaError(.corruptContent, "zlib inflateReset failed") }
                    continue
                }
                return try out.finish()
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if stream.avail_in == 0 {
                    throw KopiaError(.corruptContent, "\(framing) stream is truncated")
                }
                continue
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw KopiaError(.corruptContent, "\(framing) stream is corrupt: \(reason)")
            }
        }
    }

    /// Deflates `input` in one pass at zlib `level` (1...9, or -1 for the default, 6).
    static func deflate(_ input: UnsafeRawBufferPointer, framing: Framing, level: Int32) throws(KopiaError) -> [UInt8] {
        guard input.count < Int(UInt32.max) else {
            throw KopiaError(.invalidArgument, "\(framing) input over 4 GiB is not supported")
        }
        var stream = z_stream()
        guard czlib_deflate_init2(&stream, level, framing.windowBits, 8) == Z_OK else {
            throw KopiaError(.invalidArgument, "zlib deflateInit2 failed (level \(level))")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var rc: Int32 = Z_OK
        let result = [UInt8](unsafeUninitializedCapacity: bound) { buf, initialized in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: UInt8.self).baseAddress)
            stream.avail_in = UInt32(input.count)
            stream.next_out = buf.baseAddress
            stream.avail_out = UInt32(bound)
            rc = CZlib.deflate(&stream, Z_FINISH)
            initialized = rc == Z_STREAM_END ? bound - Int(stream.avail_out) : 0
        }
        guard rc == Z_STREAM_END else { throw KopiaError(.invalidArgument, "zlib deflate failed (\(rc))") }
        return result
    }
}
