// Codec throughput on this machine (restore's hot path): AES-GCM content decrypt, BLAKE2B-256-128 and
// BLAKE3 content hashing, zstd / S2 / gzip decompression. Contents of 4 MiB (Kopia's typical chunk); each
// figure is the best of 5 rounds, in MB/s of plaintext. Figures are printed, never asserted.
import Foundation
import Kopia

let size = 4 << 20
var text = [UInt8](repeating: 0, count: size)
let words = ["kopia ", "ferry ", "snapshot ", "content ", "pack ", "index ", "blob ", "\n", "0123 ", "restore "].map { Array($0.utf8) }
var state: UInt64 = 88172645463325252
var o = 0
while o < size {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17
    for b in words[Int(state % 10)] where o < size { text[o] = b; o += 1 }
}
var random = [UInt8](repeating: 0, count: size)
for i in 0..<size { state ^= state << 13; state ^= state >> 7; state ^= state << 17; random[i] = UInt8(truncatingIfNeeded: state) }

func measure(_ name: String, bytes: Int, rounds: Int = 5, _ body: () throws -> Void) rethrows {
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    print(String(format: "%-40@ %8.0f MB/s", name as NSString, Double(bytes) / best / 1e6))
}

let cipher = try ContentCipher(algorithm: .aes256GCMHMACSHA256, masterKey: Array(repeating: 7, count: 32))
let chacha = try ContentCipher(algorithm: .chacha20Poly1305HMACSHA256, masterKey: Array(repeating: 7, count: 32))
let iv = Array(repeating: UInt8(3), count: 16)
let sealed = try cipher.encrypt(random, iv: iv)
let sealedChacha = try chacha.encrypt(random, iv: iv)
try measure("AES256-GCM-HMAC-SHA256 decrypt", bytes: size) { _ = try cipher.decrypt(sealed, iv: iv) }
try measure("CHACHA20-POLY1305-HMAC-SHA256 decrypt", bytes: size) { _ = try chacha.decrypt(sealedChacha, iv: iv) }
let small = Array(sealed.prefix(64 << 10 + 28))
let smallSealed = try cipher.encrypt(Array(random.prefix(64 << 10)), iv: iv)
_ = small
try measure("AES-GCM decrypt, 64 KiB contents", bytes: 64 * (64 << 10)) { for _ in 0..<64 { _ = try cipher.decrypt(smallSealed, iv: iv) } }

for algorithm in [HashAlgorithm.blake2b256_128, .blake3_256_128, .hmacSHA256_128, .blake2s256] {
    let hasher = try ContentHasher(algorithm: algorithm, secret: Array(repeating: 9, count: 32))
    measure("\(algorithm.rawValue) hash", bytes: size) { _ = hasher.hash(random) }
}

for (algorithm, input) in [(CompressionAlgorithm.zstdFastest, text), (.zstd, text), (.s2Default, text), (.s2Default, random),
                           (.gzip, text), (.deflateDefault, text)] {
    let payload = try Compression.compress(input, using: algorithm)
    let kind = input == text ? "text" : "random"
    try measure("\(algorithm.name) decompress (\(kind), ratio \(String(format: "%.2f", Double(payload.count) / Double(size))))", bytes: size) {
        _ = try Compression.decompress(payload)
    }
    try measure("\(algorithm.name) compress (\(kind))", bytes: size, rounds: 3) { _ = try Compression.compress(input, using: algorithm) }
}
