internal import COpenSSL

/// A keyed OpenSSL MAC context (HMAC-*, BLAKE2BMAC, BLAKE2SMAC) initialised once; each `mac` call works
/// on a duplicate, so one template serves any number of tasks at once.
///
/// `@unchecked Sendable`: the template context is never updated after init; `EVP_MAC_CTX_dup` only reads
/// it. The context is freed in `deinit`.
final class MACTemplate: @unchecked Sendable {
    private let ctx: OpaquePointer
    let outputSize: Int

    /// - Parameters:
    ///   - mac: the fetched MAC.
    ///   - key: the key; HMAC accepts an empty key, BLAKE2 MACs need 1...64 (b) or 1...32 (s) bytes.
    ///   - digest: HMAC's digest name (`"SHA256"`, `"SHA3-224"`, …); nil for BLAKE2.
    ///   - size: the BLAKE2 digest size to request; nil for HMAC.
    init(mac: FetchedMAC, key: [UInt8], digest: String?, size: Int?, outputSize: Int) throws(KopiaError) {
        guard let ctx = EVP_MAC_CTX_new(mac.raw) else { throw OpenSSL.failure("EVP_MAC_CTX_new") }
        var sizeValue = size ?? 0
        let ok = withUnsafeMutablePointer(to: &sizeValue) { sizePtr in
            (digest ?? "").withCString { digestName in
                var params: [OSSL_PARAM] = []
                if digest != nil { params.append(copenssl_param_mac_digest(digestName)) }
                if size != nil { params.append(copenssl_param_mac_size(sizePtr)) }
                params.append(copenssl_param_end())
                // A non-nil pointer even for an empty key: OpenSSL reads a nil key as "keep the old key".
                let keyBytes: [UInt8] = key.isEmpty ? [0] : key
                return keyBytes.withUnsafeBufferPointer { k in EVP_MAC_init(ctx, k.baseAddress, key.count, &params) == 1 }
            }
        }
        guard ok, EVP_MAC_CTX_get_mac_size(ctx) == outputSize else {
            EVP_MAC_CTX_free(ctx)
            throw OpenSSL.failure("MAC init (digest \(digest ?? "-"), size \(size ?? 0), key \(key.count) bytes)")
        }
        self.ctx = ctx
        self.outputSize = outputSize
    }

    deinit { EVP_MAC_CTX_free(ctx) }

    /// Writes the MAC of `data` to `out` (at least `outputSize` bytes). Fails only on allocation failure in
    /// OpenSSL, which no input can cause.
    func mac(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= outputSize)
        let copy = EVP_MAC_CTX_dup(ctx)
        defer { EVP_MAC_CTX_free(copy) }
        var written = 0
        let ok = copy != nil
            && EVP_MAC_update(copy, data.bindMemory(to: UInt8.self).baseAddress, data.count) == 1
            && EVP_MAC_final(copy, out.bindMemory(to: UInt8.self).baseAddress, &written, out.count) == 1
        precondition(ok && written == outputSize, "OpenSSL MAC failed: \(OpenSSL.drainErrors())")
    }
}
