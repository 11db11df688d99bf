internal import CZlib

/// Gunzip for manifest contents (kopia-format.md §10: the JSON inside a manifest content is gzip'd).
///
/// TEMPORARY: Codecs/Compression (`Compression.gunzip`) has not landed on main yet; when it does, this file
/// becomes a one-line forward to it. Multi-member streams are decoded; output is capped at `maximumOutput`.
enum ManifestDecompression {
    static let maximumOutput = 256 << 20

    /// - Throws: `KopiaError` `.invalidManifest` when the bytes are not a complete gzip stream.
    static func gunzip(_ input: [UInt8]) throws(KopiaError) -> [UInt8] {
        var output: [UInt8] = []
        var offset = 0
        repeat {
            let (bytes, used) = try inflateMember(input, from: offset)
            output += bytes
            offset += used
            guard output.count <= maximumOutput else {
                throw KopiaError(.invalidManifest, "manifest content decompresses to more than \(maximumOutput) bytes")
            }
        } while offset < input.count && input[offset] == 0x1f
        return output
    }

    private static func inflateMember(_ input: [UInt8], from start: Int) throws(KopiaError) -> ([UInt8], Int) {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, 16 + 15) == Z_OK else {
            throw KopiaError(.invalidManifest, "zlib could not start a gzip decoder")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var status: Int32 = Z_OK
        var consumed = 0
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress.map { $0 + start })
            stream.avail_in = UInt32(inBuf.count - start)
            while status == Z_OK {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                output += buffer[0..<produced]
                if output.count > maximumOutput || (status == Z_OK && produced == 0 && stream.avail_in == 0) { break }
            }
            consumed = inBuf.count - start - Int(stream.avail_in)
        }
        guard status == Z_STREAM_END else {
            throw KopiaError(.invalidManifest, "manifest content is not a complete gzip stream (zlib status \(status))")
        }
        return (output, consumed)
    }
}
