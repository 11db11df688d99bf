internal import COpenSSL

/// The key-derivation functions of the Kopia format (kopia-format.md §2.2, §2.3, §2.8, §4.1).
///
/// Pure functions, safe from any task. scrypt and PBKDF2 are deliberately slow (tens to hundreds of
/// milliseconds); callers derive once per repository open and keep the result.
public enum KeyDerivation {
    /// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info`.
    ///
    /// Kopia uses it with two argument orders: format keys take salt = uniqueID, info = purpose (§2.3);
    /// the content key K_enc takes salt = `"encryption"`, info = empty (§4.1).
    /// - Throws: `KopiaError.invalidArgument` when `length` is not 1...8160.
    public static func hkdfSHA256(key ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int) throws -> [UInt8] {
        guard length > 0, length <= 255 * 32 else {
            throw KopiaError(.invalidArgument, "HKDF-SHA256 length \(length) is not 1...8160")
        }
        let prk = hmacSHA256(key: salt, message: ikm)
        var output: [UInt8] = []
        output.reserveCapacity(length + 32)
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = hmacSHA256(key: prk, message: block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }

    /// HMAC-SHA256 of `message` under `key`; 32 bytes.
    public static func hmacSHA256(key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        hmac(digest: EVP_sha256(), size: 32, key: key, message: message)
    }

    /// One-shot HMAC with a legacy digest handle. Fails only when OpenSSL cannot allocate, which no input
    /// can cause, hence the precondition.
    static func hmac(digest: OpaquePointer?, size: Int, key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        let ok = key.withUnsafeBytes { keyBuf in
            withContiguousBytes(message) { msg in
                out.withUnsafeMutableBufferPointer { outBuf in
                    HMAC(digest, keyBuf.baseAddress ?? UnsafeRawPointer(outBuf.baseAddress), Int32(keyBuf.count),
                         msg.baseAddress?.assumingMemoryBound(to: UInt8.self), msg.count,
                         outBuf.baseAddress, &outLength) != nil
                }
            }
        }
        precondition(ok && Int(outLength) == size, "OpenSSL HMAC failed: \(OpenSSL.drainErrors())")
        return Array(out.prefix(size))
    }

    /// scrypt (RFC 7914) with a memory limit sized for the parameters (OpenSSL's default 32 MiB is too small
    /// for N = 65536, r = 8; grpc-c.md §7.2).
    /// - Throws: `KopiaError.invalidArgument` for parameters OpenSSL rejects (N not a power of two, too large).
    public static func scrypt(password: [UInt8], salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int) throws -> [UInt8] {
        guard length > 0, n > 1, n & (n - 1) == 0, r > 0, p > 0,
              n <= 1 << 24, UInt64(r) * UInt64(p) < 1 << 30 else {
            throw KopiaError(.invalidArgument, "scrypt parameters N=\(n) r=\(r) p=\(p) length=\(length) are not supported")
        }
        // 128·r·N for V, 128·r·p for B, plus slack; capped at 2 GiB.
        let need = 128 * UInt64(r) * (n + UInt64(p) + 2) + (1 << 20)
        guard need <= 2 << 30 else {
            throw KopiaError(.invalidArgument, "scrypt parameters N=\(n) r=\(r) need \(need >> 20) MiB, over the 2 GiB limit")
        }
        var out = [UInt8](repeating: 0, count: length)
        let chars = cString(password)
        let ok = chars.withUnsafeBufferPointer { pw in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBufferPointer { o in
                    EVP_PBE_scrypt(pw.baseAddress, password.count,
                                   s.baseAddress?.assumingMemoryBound(to: UInt8.self), s.count,
                                   n, UInt64(r), UInt64(p), need, o.baseAddress, length) == 1
                }
            }
        }
        guard ok else { throw OpenSSL.failure("scrypt") }
        return out
    }

    /// PBKDF2-HMAC-SHA256.
    /// - Throws: `KopiaError.invalidArgument` when `iterations` or `length` is not positive.
    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) throws -> [UInt8] {
        guard iterations > 0, iterations <= Int(Int32.max), length > 0, length <= Int(Int32.max) else {
            throw KopiaError(.invalidArgument, "PBKDF2 iterations \(iterations) / length \(length) are not usable")
        }
        var out = [UInt8](repeating: 0, count: length)
        let chars = cString(password)
        let ok = chars.withUnsafeBufferPointer { pw in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBufferPointer { o in
                    PKCS5_PBKDF2_HMAC(pw.baseAddress, Int32(password.count),
                                      s.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(s.count),
                                      Int32(iterations), EVP_sha256(), Int32(length), o.baseAddress) == 1
                }
            }
        }
        guard ok else { throw OpenSSL.failure("PBKDF2") }
        return out
    }

    /// The password as C characters plus a terminating zero, so the buffer is never empty.
    private static func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }
}
