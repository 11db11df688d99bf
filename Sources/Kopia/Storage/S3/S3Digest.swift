internal import COpenSSL

/// The digests S3 requests need: SHA-256 (payload hash, canonical request), HMAC-SHA-256 (SigV4 key chain and
/// signature) and MD5 (`Content-MD5` on uploads). One-shot OpenSSL EVP calls; no state survives a call.
enum S3Digest {
    /// SHA-256 of `data`.
    static func sha256(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_sha256(), size: 32)
    }

    /// MD5 of `data` (only for `Content-MD5`, an integrity check, never for security).
    static func md5(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_md5(), size: 16)
    }

    /// HMAC-SHA-256 of `message` under `key`.
    static func hmacSHA256(key: [UInt8], _ message: some Collection<UInt8>) -> [UInt8] {
        let message = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &length)
                }
            }
        }
        // HMAC-SHA-256 fails only on allocation failure inside OpenSSL; no input reaches that.
        precondition(ok != nil && length == 32, "OpenSSL HMAC-SHA-256 failed")
        return out
    }

    private static func digest(_ data: some Collection<UInt8>, _ md: OpaquePointer?, size: Int) -> [UInt8] {
        let data = Array(data)
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let ok = data.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(d.baseAddress, d.count, o.baseAddress, &length, md, nil)
            }
        }
        precondition(ok == 1 && Int(length) == size, "OpenSSL digest failed")
        return out
    }
}
