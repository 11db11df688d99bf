internal import COpenSSL

/// Small helpers shared by the OpenSSL-backed codecs: error-queue text, fetched algorithm handles, and
/// contiguous-byte access for generic collections.
enum OpenSSL {
    /// Drains the thread's OpenSSL error queue into one line (empty when the queue is empty).
    static func drainErrors() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            let text = buf.withUnsafeBufferPointer { ptr in
                String(decoding: UnsafeRawBufferPointer(ptr).prefix { $0 != 0 }, as: UTF8.self)
            }
            parts.append(text)
        }
        return parts.joined(separator: "; ")
    }

    /// A KopiaError for an OpenSSL call that failed for a reason no input controls (allocation, provider).
    static func failure(_ what: String) -> KopiaError {
        let detail = drainErrors()
        return KopiaError(.invalidArgument, "OpenSSL \(what) failed" + (detail.isEmpty ? "" : ": \(detail)"))
    }
}

/// A fetched `EVP_CIPHER` (AES-256-GCM, ChaCha20-Poly1305). Fetched once per process: implicit fetches on
/// every `EVP_EncryptInit_ex2` take a global lock in OpenSSL 3.
///
/// `@unchecked Sendable`: the handle is immutable after init and OpenSSL documents fetched algorithms as
/// shareable between threads.
final class FetchedCipher: @unchecked Sendable {
    let raw: OpaquePointer
    let name: String

    init(_ name: String) throws(KopiaError) {
        guard let raw = EVP_CIPHER_fetch(nil, name, nil) else { throw OpenSSL.failure("EVP_CIPHER_fetch(\(name))") }
        self.raw = raw
        self.name = name
    }

    deinit { EVP_CIPHER_free(raw) }

    static let aes256GCM = Result { () throws(KopiaError) in try FetchedCipher("AES-256-GCM") }
    static let chacha20Poly1305 = Result { () throws(KopiaError) in try FetchedCipher("ChaCha20-Poly1305") }
}

/// A fetched `EVP_MAC` (HMAC, BLAKE2BMAC, BLAKE2SMAC), fetched once per process.
///
/// `@unchecked Sendable`: immutable after init; fetched algorithms are thread-safe in OpenSSL 3.
final class FetchedMAC: @unchecked Sendable {
    let raw: OpaquePointer

    init(_ name: String) throws(KopiaError) {
        guard let raw = EVP_MAC_fetch(nil, name, nil) else { throw OpenSSL.failure("EVP_MAC_fetch(\(name))") }
        self.raw = raw
    }

    deinit { EVP_MAC_free(raw) }

    static let hmac = Result { () throws(KopiaError) in try FetchedMAC("HMAC") }
    static let blake2b = Result { () throws(KopiaError) in try FetchedMAC("BLAKE2BMAC") }
    static let blake2s = Result { () throws(KopiaError) in try FetchedMAC("BLAKE2SMAC") }
}

/// A fetched `EVP_MD` (used for unkeyed BLAKE2s-256), fetched once per process.
///
/// `@unchecked Sendable`: immutable after init; fetched algorithms are thread-safe in OpenSSL 3.
final class FetchedDigest: @unchecked Sendable {
    let raw: OpaquePointer
    let size: Int

    init(_ name: String) throws(KopiaError) {
        guard let raw = EVP_MD_fetch(nil, name, nil) else { throw OpenSSL.failure("EVP_MD_fetch(\(name))") }
        self.raw = raw
        self.size = Int(EVP_MD_get_size(raw))
    }

    deinit { EVP_MD_free(raw) }

    /// Writes the digest of `data` to `out` (at least `size` bytes). Fails only on allocation failure in
    /// OpenSSL, which no input can cause.
    func digest(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= size)
        var written: UInt32 = 0
        let ok = EVP_Digest(data.baseAddress, data.count, out.bindMemory(to: UInt8.self).baseAddress, &written, raw, nil)
        precondition(ok == 1 && Int(written) == size, "OpenSSL digest failed: \(OpenSSL.drainErrors())")
    }

    static let blake2s256 = Result { () throws(KopiaError) in try FetchedDigest("BLAKE2S-256") }
}

/// Calls `body` with the bytes of `data` as one contiguous buffer, copying only when the collection has no
/// contiguous storage. The buffer's base address is never nil (empty input gets a one-byte dummy).
@inline(__always)
func withContiguousBytes<C: Collection<UInt8>, R>(
    _ data: C, _ body: (UnsafeRawBufferPointer) throws -> R
) rethrows -> R {
    if let result = try data.withContiguousStorageIfAvailable({ buf -> R in
        if buf.isEmpty { return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { tmp in
            try body(UnsafeRawBufferPointer(start: tmp.baseAddress, count: 0)) } }
        return try body(UnsafeRawBufferPointer(buf))
    }) {
        return result
    }
    if let raw = data as? UnsafeRawBufferPointer, raw.baseAddress != nil {
        return try body(raw)
    }
    let copy = Array(data)
    return try copy.withUnsafeBytes { buf in
        if buf.isEmpty { return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { tmp in
            try body(UnsafeRawBufferPointer(start: tmp.baseAddress, count: 0)) } }
        return try body(buf)
    }
}
