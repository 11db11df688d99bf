internal import CGRPC

/// Conversions between Swift bytes and gRPC byte buffers (grpc-c.md §3.4).
enum ByteBuffer {
    /// A new byte buffer holding a copy of `bytes`; the caller destroys it (via the call state).
    static func make(_ bytes: [UInt8]) -> UnsafeMutablePointer<grpc_byte_buffer>? {
        bytes.withUnsafeBytes { raw in cgrpc_byte_buffer_copy_from(raw.baseAddress, raw.count) }
    }

    /// The bytes of a received buffer (decompressed), or nil when gRPC cannot read it.
    static func bytes(of buffer: UnsafeMutablePointer<grpc_byte_buffer>) -> [UInt8]? {
        var slice = grpc_slice()
        guard cgrpc_byte_buffer_flatten(buffer, &slice) != 0 else { return nil }
        defer { grpc_slice_unref(slice) }
        let count = cgrpc_slice_length(&slice)
        guard count > 0, let start = cgrpc_slice_start(&slice) else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: count))
    }

    /// A slice's bytes as a String (lossy UTF-8 repair), e.g. status details.
    static func string(of slice: grpc_slice) -> String {
        var slice = slice
        let count = cgrpc_slice_length(&slice)
        guard count > 0, let start = cgrpc_slice_start(&slice) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }
}
